"""Leaderboards and the regression check, rendered from results files only (never re-running a method).

- :mod:`.fields`: tolerant accessors for what tables read from a ``results.json`` (the one place
  that knows key names);
- :mod:`.collect`: load results folders, pick each method's latest eligible run, the noise floor;
- :mod:`.table`: the table model (columns, best values, protocol checks, caption);
- :mod:`.cells`: how a cell is written; :mod:`.tables` (Markdown, CSV, JSON), :mod:`.tex` (the paper
  table and its protocol appendix, :mod:`.protocols`), :mod:`.html` (the sortable page);
- :mod:`.samples`: the page's side-by-side sample previews; :mod:`.plots`: the figures (PNG + PDF);
- :mod:`.check`: the regression policy of ``vbench-lite check``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vbench_lite.results import encode_number

if TYPE_CHECKING:
    from vbench_lite.leaderboard.table import Leaderboard

__all__ = ["Rendered", "render_leaderboard"]

ALL_FORMATS = ("md", "csv", "tex", "html", "json", "png")


def render_leaderboard(
    results: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    suite: str = "shapes",
    formats: tuple[str, ...] | list[str] = ALL_FORMATS,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    baseline: str | None = None,
    noise_floor: str | os.PathLike[str] | None = None,
    copy_results: bool = True,
    eligible_only: bool = True,
    tex_intervals: str = "stacked",
    with_videos: bool = False,
) -> Rendered:
    """Load ``results``, build the table of each method's latest eligible run, write ``formats``.

    ``eligible_only=False`` also takes partial, validation and external runs (marked in the caption).
    ``baseline`` (default: the reference method the runs recorded, ``RunSpec.reference_method``;
    given explicitly it must have a run) is the reference row.
    Unreadable results files are reported and skipped.
    ``tex_intervals``: ``stacked`` (default), ``inline`` or ``none`` (:func:`.tex.render_tex`). The HTML page
    has a samples section when the suite is registered; ``with_videos`` also writes its previews
    (animated GIFs under ``<out>/samples/``, never committed) from the runs' videos
    (:func:`.samples.write_previews`).
    With ``copy_results`` the chosen ``results.json`` files are copied to ``<out>/results/`` (the
    results layout), so a committed leaderboard can be re-rendered from its own folder.
    """
    from vbench_lite.leaderboard import collect, plots, samples, table, tables
    from vbench_lite.leaderboard.tex import TEX_INTERVALS

    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(unknown)}; choose from {','.join(ALL_FORMATS)}")
    if tex_intervals not in TEX_INTERVALS:
        raise ValueError(f"unknown --tex-intervals {tex_intervals!r}; choose from {', '.join(TEX_INTERVALS)}")
    loaded = collect.load_runs(results, suite=suite, skip_unreadable=True)
    runs = collect.latest_eligible(loaded, include=include, exclude=exclude, eligible_only=eligible_only)
    explicit = baseline is not None
    baseline = baseline or collect.recorded_reference(runs)
    collect.check_baseline(runs, baseline, explicit=explicit)
    if noise_floor is not None:  # the user's file wins
        floors = collect.load_noise_floor(suite, path=noise_floor)
    else:  # what the metrics recorded, else the shipped file
        floors = collect.noise_floor_from_runs(runs) or collect.load_noise_floor(suite)
    lb = table.build(runs, suite=suite, noise_floor=floors, baseline_id=baseline)
    grid = samples.sample_grid(lb) if ("html" in formats or with_videos) else None
    previews: list[Path] = []
    if with_videos and grid is not None:
        previews = samples.write_previews(lb, grid, out)
    extra = samples.render_section(grid) if grid is not None else ""
    written = tables.write(lb, out, [f for f in formats if f != "png"], tex_intervals=tex_intervals, html_extra=extra)
    if "png" in formats:
        written += plots.write_figures(lb, out)
    copies = collect.copy_results(runs, Path(out) / "results") if copy_results else []
    return Rendered(lb, written, copies, previews)


@dataclass
class Rendered:
    """What :func:`render_leaderboard` built and wrote."""

    leaderboard: Leaderboard
    written: list[Path]  # tables and plot
    copies: list[Path] = field(default_factory=list)  # results.json copies under <out>/results/
    previews: list[Path] = field(default_factory=list)  # sample GIFs under <out>/samples/ (--with-videos)

    def rows_json(self) -> list[dict[str, object]]:
        """One dict per row: method id, run id and each column's raw value (std, interval), for ``--json``."""
        out = []
        for row in self.leaderboard.rows:
            d: dict[str, object] = {"method": row.method_id, "run_id": row.run.result.run_id,
                                    "results": str(row.run.path)}
            for col in self.leaderboard.columns:
                cell = row.cells[col.key]
                d[col.key] = encode_number(cell.value)
                if col.show_std:
                    d[f"{col.key}_std"] = encode_number(cell.std)
                if cell.interval is not None:
                    d[f"{col.key}_interval"] = [encode_number(x) for x in cell.interval]
            out.append(d)
        return out
