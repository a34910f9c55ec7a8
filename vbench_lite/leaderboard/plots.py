"""The leaderboard's figures, one per question a reader asks, each as PNG (pages) and PDF (papers).

- ``quality_vs_flops``: FVD and VBench-lite Total against GFLOPs per video;
- ``quality_vs_speedup``: the same against the speedup over the reference;
- ``vbench_dimensions``: every VBench-lite dimension per method (bars, ± standard error).

Drawn with matplotlib's Agg backend from the leaderboard model only. Error bars are the intervals
the results carry (FVD bootstrap std, the speedup's interval when the field provides one); an axis
is logarithmic only when its values span more than a decade. Each quality panel draws the Pareto
front (the methods no other beats on both cost and quality) per generation resolution, so SNED-style
rows at several resolutions get one front each. Files are byte-stable for a given table (no
timestamps or software stamps in the metadata).
"""

from __future__ import annotations

import io
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vbench_lite.fsutil import atomic_write_bytes
from vbench_lite.leaderboard import fields
from vbench_lite.leaderboard.table import Leaderboard, Row

log = logging.getLogger(__name__)

# Quality panels, in order: (column key, axis label)
QUALITY_PANELS = (("fvd", "FVD"), ("vbench_total", "VBench-lite Total"))
FIGURES = ("quality_vs_flops", "quality_vs_speedup", "vbench_dimensions")
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
            "#7f7f7f", "#bcbd22")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def pareto_front(points: list[tuple[float, float]], higher_is_better: bool) -> list[int]:
    """Indices of the non-dominated points (lower cost x, better quality y), sorted by x."""
    front = []
    for i, (x, y) in enumerate(points):
        dominated = False
        for j, (x2, y2) in enumerate(points):
            if j == i:
                continue
            better_or_equal = (y2 >= y) if higher_is_better else (y2 <= y)
            strictly = x2 < x or ((y2 > y) if higher_is_better else (y2 < y))
            if x2 <= x and better_or_equal and strictly:
                dominated = True
                break
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def wants_log(values: list[float]) -> bool:
    """A log axis only when the positive values span more than a decade."""
    pos = [v for v in values if v > 0 and math.isfinite(v)]
    return bool(pos) and max(pos) / min(pos) > 10.0


def resolution(row: Row) -> int | None:
    gen = row.run.result.spec.get("generation")
    r = gen.get("resolution") if isinstance(gen, dict) else None
    return int(r) if isinstance(r, (int, float)) else None


@dataclass(frozen=True)
class _Point:
    method: str
    x: float
    y: float
    xerr: tuple[float, float] | None  # (below, above)
    yerr: float | None
    res: int | None


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _points(lb: Leaderboard, xkey: str, ykey: str) -> list[_Point]:
    pts = []
    for r in lb.rows:
        xc, yc = r.cells[xkey], r.cells[ykey]
        if not (_finite(xc.value) and _finite(yc.value)) or xc.value <= 0:  # type: ignore[operator]
            continue
        x, y = float(xc.value), float(yc.value)  # type: ignore[arg-type]
        xerr = (x - xc.interval[0], xc.interval[1] - x) if xc.interval is not None else None
        pts.append(_Point(r.method_id, x, y, xerr, yc.std, resolution(r)))
    return pts


def _style(lb: Leaderboard) -> tuple[dict[str, str], dict[int | None, str]]:
    colours = {r.method_id: _COLOURS[i % len(_COLOURS)] for i, r in enumerate(lb.rows)}
    resolutions = sorted({resolution(r) for r in lb.rows}, key=lambda v: (v is None, v or 0))
    markers = {res: _MARKERS[i % len(_MARKERS)] for i, res in enumerate(resolutions)}
    return colours, markers


def _panel(ax: Any, lb: Leaderboard, pts: list[_Point], xkey: str, ykey: str, ylabel: str, xlabel: str) -> None:
    colours, markers = _style(lb)
    higher = lb.column(ykey).better == "higher"
    xsign = -1.0 if lb.column(xkey).better == "higher" else 1.0  # a speedup is a benefit, not a cost
    several = len(markers) > 1
    for p in pts:
        label = p.method + (f" ({p.res} px)" if several and p.res else "")
        xerr = [[p.xerr[0]], [p.xerr[1]]] if p.xerr else None
        ax.errorbar([p.x], [p.y], xerr=xerr, yerr=[p.yerr] if p.yerr is not None else None,
                    fmt=markers[p.res], color=colours[p.method], ms=7, capsize=3, lw=1.2, label=label, zorder=3)
    for res in markers:
        group = [p for p in pts if p.res == res]
        front = pareto_front([(xsign * p.x, p.y) for p in group], higher)
        if len(front) > 1:
            ax.plot([group[i].x for i in front[::int(xsign)]], [group[i].y for i in front[::int(xsign)]], "--", color="#555", lw=1,
                    zorder=2, label="Pareto front" + (f" ({res} px)" if several and res else ""))
    if wants_log([p.x for p in pts]):
        ax.set_xscale("log")
        xlabel += " (log scale)"
    if wants_log([p.y for p in pts]):
        ax.set_yscale("log")
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{ylabel} ({'higher' if higher else 'lower'} is better)")
    ax.grid(True, alpha=0.3)


def _quality_figure(lb: Leaderboard, xkey: str, xlabel: str, title: str) -> Any | None:
    import matplotlib.pyplot as plt

    panels = [(k, label, _points(lb, xkey, k)) for k, label in QUALITY_PANELS if k in lb.rows[0].cells]
    panels = [p for p in panels if len(p[2]) >= 2]  # one point compares nothing
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4), squeeze=False)
    for ax, (ykey, ylabel, pts) in zip(axes[0], panels):
        label = ylabel + (" ± bootstrap std" if any(p.yerr is not None for p in pts) else "")
        _panel(ax, lb, pts, xkey, ykey, label, xlabel)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    fig.suptitle(f"vbench_lite {lb.suite}: {title}", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _dimensions(lb: Leaderboard) -> list[str]:
    for r in lb.rows:
        m = fields.metric(r.run.result, "vbench_total")
        dims = m.protocol.get("dimensions") if m is not None else None
        if isinstance(dims, list) and dims:
            return [str(d) for d in dims]
    names = {k for r in lb.rows for k in r.run.result.metrics if k.startswith("vbench_")}
    return sorted(n.removeprefix("vbench_") for n in names - {"vbench_quality", "vbench_semantic", "vbench_total"})


def _dimension_figure(lb: Leaderboard) -> Any | None:
    import matplotlib.pyplot as plt

    dims = [d for d in _dimensions(lb) if any(fields.metric_value(r.run.result, f"vbench_{d}") is not None
                                             for r in lb.rows)]
    if not dims:
        return None
    colours, _ = _style(lb)
    n = len(lb.rows)
    height = 0.8 / n
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(dims) * max(1.0, n / 3) + 1.4))
    for i, r in enumerate(lb.rows):
        ys, vals, errs = [], [], []
        for j, d in enumerate(dims):
            v = fields.metric_value(r.run.result, f"vbench_{d}")
            if v is None:
                continue
            ys.append(j + (i - (n - 1) / 2) * height)
            vals.append(v)
            errs.append(fields.metric_std(r.run.result, f"vbench_{d}") or 0.0)
        ax.barh(ys, vals, height=height * 0.92, xerr=errs, color=colours[r.method_id], label=r.method_id,
                error_kw={"lw": 0.8, "capsize": 2})
    ax.set_yticks(range(len(dims)), [d.replace("_", " ") for d in dims], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("dimension score (raw, before VBench's min-max normalisation; ± standard error)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, n), fontsize=8, frameon=False)
    ax.set_title(f"vbench_lite {lb.suite}: VBench-lite dimensions per method", fontsize=10, pad=24)
    fig.tight_layout()
    return fig


def render_figures(lb: Leaderboard) -> dict[str, dict[str, bytes]]:
    """``{figure name: {"png": bytes, "pdf": bytes}}`` for every figure the table has data for."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = {
        "quality_vs_flops": _quality_figure(lb, "gflops", "GFLOPs per video", "quality against FLOPs"),
        "quality_vs_speedup": _quality_figure(
            lb, "speedup", f"speedup over {lb.baseline_id} (latency ratio, batch {fields.LATENCY_BATCH})",
            "quality against speedup"),
        "vbench_dimensions": _dimension_figure(lb),
    }
    out: dict[str, dict[str, bytes]] = {}
    for name, fig in figs.items():
        if fig is None:
            log.info("no %s figure: no row has the values it plots", name)
            continue
        files = {}
        for fmt, meta in (("png", {"Software": None}), ("pdf", {"Creator": None, "Producer": None,
                                                               "CreationDate": None})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=150, metadata=meta)
            files[fmt] = buf.getvalue()
        plt.close(fig)
        out[name] = files
    return out


def write_figures(lb: Leaderboard, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``<out>/<figure>.png`` and ``.pdf`` for each figure; returns the paths."""
    written = []
    for name, files in render_figures(lb).items():
        for fmt, data in files.items():
            written.append(atomic_write_bytes(Path(out) / f"{name}.{fmt}", data))
    return written
