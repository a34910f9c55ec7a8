"""The figures: axes a reader can read, the intervals the results carry, a front per resolution."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from tests.test_leaderboard_fixtures import make_run, save
from vbench_lite.leaderboard import collect, plots, table


def _board(root: Path) -> table.Leaderboard:
    return table.build(collect.latest_eligible(collect.load_runs(root, suite="shapes")), suite="shapes")


def _fronts(fig) -> list[str]:
    return [ln.get_label() for ax in fig.axes for ln in ax.get_lines() if ln.get_label().startswith("Pareto")]


def test_linear_axes_over_a_narrow_range_and_intervals_as_error_bars(tmp_path: Path) -> None:
    root = tmp_path / "results"
    save(root, make_run("baseline", metrics={"fvd": (208.5, 22.9), "vbench_total": 0.90}, flops=13.1e9, latency=0.163))
    save(root, make_run("tpdiff", metrics={"fvd": (267.0, 34.9), "vbench_total": 0.896}, flops=8.0e9, latency=0.136,
                        speedup=(1.52, 1.47, 1.58)))
    save(root, make_run("vdmini", metrics={"fvd": (235.4, 30.1), "vbench_total": 0.878}, flops=6.0e9, latency=0.1,
                        speedup=(1.9, 1.7, 2.2)))
    lb = _board(root)
    fig = plots._quality_figure(lb, "gflops", "GFLOPs per video", "t")
    assert [ax.get_xscale() for ax in fig.axes] == ["linear", "linear"]  # 6-13 GFLOPs: not a decade
    fvd_ax = fig.axes[0]
    assert "bootstrap std" in fvd_ax.get_ylabel()
    # one error bar per point on the FVD panel: the bootstrap std, drawn ± around the value
    bars = [c for c in fvd_ax.containers if c.has_yerr]
    assert len(bars) == 3
    fig = plots._quality_figure(lb, "speedup", "speedup", "t")
    xbars = [c for c in fig.axes[0].containers if c.has_xerr]
    assert len(xbars) == 2  # the two paired intervals; the reference (1.00x by definition) has none
    segs = xbars[0].lines[2][0].get_segments()[0]
    assert sorted(round(x, 2) for x, _ in segs) in ([1.47, 1.58], [1.7, 2.2])
    # a speedup is a benefit: the front runs through the fastest point with the best FVD trade-off
    assert _fronts(fig)


def test_log_axis_only_past_a_decade() -> None:
    assert not plots.wants_log([0.135, 0.163])
    assert not plots.wants_log([1.0, 9.9])
    assert plots.wants_log([1.0, 10.5])
    assert not plots.wants_log([])


def test_one_pareto_front_per_resolution(tmp_path: Path) -> None:
    root = tmp_path / "results"
    for method, res, flops, fvd in (("baseline", 32, 13e9, 200.0), ("sned:a", 32, 6e9, 260.0), ("sned:b", 32, 4e9, 300.0),
                                    ("sned:c", 24, 3e9, 320.0), ("sned:d", 24, 2e9, 350.0)):
        name, _, variant = method.partition(":")
        run = make_run(name, variant or None, metrics={"fvd": (fvd, 5.0)}, flops=flops)
        run.spec["generation"] = {"frames": 16, "resolution": res, "fps": 8}
        save(root, run)
    lb = _board(root)
    fig = plots._quality_figure(lb, "gflops", "GFLOPs per video", "t")
    assert sorted(_fronts(fig)) == ["Pareto front (24 px)", "Pareto front (32 px)"]
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "sned:c (24 px)" in labels and "baseline (32 px)" in labels


def test_figures_are_png_and_pdf_and_byte_stable(tmp_path: Path) -> None:
    root = tmp_path / "results"
    save(root, make_run("baseline", metrics={"fvd": (100.0, 4.0)}, flops=4e11))
    save(root, make_run("tpdiff", metrics={"fvd": (90.0, 5.0)}, flops=2e11))
    lb = _board(root)
    a, b = plots.render_figures(lb), plots.render_figures(lb)
    assert set(a) == {"quality_vs_flops"}  # no speedups, no VBench dimensions: those figures are left out
    assert a["quality_vs_flops"]["png"][:8] == b"\x89PNG\r\n\x1a\n" and a["quality_vs_flops"]["pdf"][:5] == b"%PDF-"
    assert a == b
