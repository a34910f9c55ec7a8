"""Leaderboards and the regression check, rendered from results files only (never re-running a method).

- :mod:`.fields`: tolerant accessors for what tables read from a ``results.json`` (the one place
  that knows key names);
- :mod:`.collect`: load results folders, pick each method's latest eligible run, the noise floor;
- :mod:`.table`: the table model (columns, best values, protocol checks, caption);
- :mod:`.tables`: Markdown / CSV / LaTeX / HTML writers; :mod:`.plots`: the Pareto PNG;
- :mod:`.check`: the regression policy of ``vbench-lite check``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["render_leaderboard"]

ALL_FORMATS = ("md", "csv", "tex", "html", "png")


def render_leaderboard(
    results: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    suite: str = "shapes",
    formats: tuple[str, ...] | list[str] = ALL_FORMATS,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    baseline: str = "baseline",
    noise_floor: str | os.PathLike[str] | None = None,
    copy_results: bool = True,
) -> list[Path]:
    """Load ``results``, build the table of each method's latest eligible run, write ``formats``.

    With ``copy_results`` the chosen ``results.json`` files are copied to ``<out>/results/`` (the
    results layout), so a committed leaderboard can be re-rendered from its own folder.
    """
    from vbench_lite.leaderboard import collect, plots, table, tables

    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(unknown)}; choose from {','.join(ALL_FORMATS)}")
    runs = collect.latest_eligible(collect.load_runs(results, suite=suite), include=include, exclude=exclude)
    if noise_floor is not None:  # the user's file wins
        floors = collect.load_noise_floor(suite, path=noise_floor)
    else:  # what the metrics recorded, else the shipped file
        floors = collect.noise_floor_from_runs(runs) or collect.load_noise_floor(suite)
    lb = table.build(runs, suite=suite, noise_floor=floors, baseline_id=baseline)
    written = tables.write(lb, out, [f for f in formats if f != "png"])
    if "png" in formats and (png := plots.write_pareto(lb, out)) is not None:
        written.append(png)
    if copy_results:
        written += collect.copy_results(runs, Path(out) / "results")
    return written
