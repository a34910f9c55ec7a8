"""The Pareto plot: quality against GFLOPs per video and against latency (log x), as a PNG.

Drawn with matplotlib's Agg backend (no display needed) from the leaderboard model only. Each panel
marks the Pareto front: the methods no other method beats on both cost and quality.
"""

from __future__ import annotations

import io
import logging
import math
import os
from pathlib import Path

from vbench_lite.fsutil import atomic_write_bytes
from vbench_lite.leaderboard.table import Leaderboard, column

log = logging.getLogger(__name__)

# Quality axis: the first of these the table has a value for.
QUALITY_PREFERENCE = ("vbench_total", "fvd", "clipsim", "vbench_quality")


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


def quality_key(lb: Leaderboard, preferred: str | None = None) -> str | None:
    keys = [preferred] if preferred else list(QUALITY_PREFERENCE)
    for key in keys:
        if any(r.cells.get(key) and r.cells[key].value is not None for r in lb.rows):
            return key
    return None


def render_pareto(lb: Leaderboard, *, quality: str | None = None) -> bytes | None:
    """PNG bytes, or ``None`` when no row has both a cost and the quality value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    qkey = quality_key(lb, quality)
    if qkey is None:
        return None
    qcol = column(qkey)
    higher = qcol.better == "higher"
    panels = [(column("gflops"), "GFLOPs per video"), (column("latency_s"), "latency (s per video, batch 16)")]
    usable = []
    for xcol, xlabel in panels:
        pts = [
            (r.method_id, r.cells[xcol.key].value, r.cells[qkey].value)
            for r in lb.rows
            if _positive(r.cells[xcol.key].value) and _finite(r.cells[qkey].value)
        ]
        if pts:
            usable.append((xlabel, pts))
    if not usable:
        return None
    fig, axes = plt.subplots(1, len(usable), figsize=(5.5 * len(usable), 4.2), squeeze=False)
    for ax, (xlabel, pts) in zip(axes[0], usable):
        xs, ys = [p[1] for p in pts], [p[2] for p in pts]
        ax.scatter(xs, ys, s=36, color="#1f77b4", zorder=3)
        for name, x, y in pts:
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        front = pareto_front([(x, y) for _, x, y in pts], higher)
        if len(front) > 1:
            ax.plot([xs[i] for i in front], [ys[i] for i in front], "--", color="#d62728", lw=1,
                    label="Pareto front", zorder=2)
            ax.legend(loc="best", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(f"{xlabel} (log scale)")
        label = f"VBench-lite {qcol.label}" if qkey.startswith("vbench_") else qcol.label
        ax.set_ylabel(f"{label} ({'higher' if higher else 'lower'} is better)")
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(f"vbench_lite {lb.suite}: quality against cost", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    # No "Software" metadata: the same table gives the same bytes across matplotlib versions' stamps.
    fig.savefig(buf, format="png", dpi=120, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def write_pareto(lb: Leaderboard, out: str | os.PathLike[str], *, quality: str | None = None) -> Path | None:
    png = render_pareto(lb, quality=quality)
    if png is None:
        log.info("no Pareto plot: no row has both a cost (GFLOPs or latency) and a quality value")
        return None
    return atomic_write_bytes(Path(out) / "pareto.png", png)


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _positive(v: float | None) -> bool:
    return _finite(v) and v > 0
