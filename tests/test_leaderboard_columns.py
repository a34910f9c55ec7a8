"""Leaderboard columns come from the registered metrics' declarations (``Metric.columns``): a plugin
metric that declares one reaches every table format, with its direction, decimals and unit."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import ClassVar

import pytest

from tests.test_leaderboard_fixtures import make_run, save
from vbench_lite.leaderboard import render_leaderboard, table
from vbench_lite.metrics.base import ColumnSpec, Metric
from vbench_lite.registries import METRICS
from vbench_lite.results import MetricResult


class Sharpness(Metric):
    """A plugin metric: mean gradient magnitude (only its declaration matters here)."""

    name: ClassVar[str] = "sharpness"
    higher_is_better: ClassVar[bool] = False
    columns: ClassVar[tuple[ColumnSpec, ...]] = (
        ColumnSpec("sharpness", "Blur", key="blur", digits=2, unit=" px", show_std=True, group="Plugin"),)

    def per_video(self, videos, items, ctx):  # type: ignore[no-untyped-def]
        raise NotImplementedError  # not run in this test

    def aggregate(self, per_video, items, ctx):  # type: ignore[no-untyped-def]
        raise NotImplementedError


@pytest.fixture
def plugin_metric(monkeypatch: pytest.MonkeyPatch) -> None:
    METRICS.names()  # scan the entry points first, so the copy holds them
    monkeypatch.setattr(METRICS, "_entries", dict(METRICS._entries))  # the registration is undone after
    METRICS.register("sharpness", Sharpness, origin="plugin (test)")


def _results(root: Path) -> Path:
    for method, blur in (("baseline", 2.0), ("tpdiff", 1.25), ("vdmini", 1.5)):
        run = make_run(method, metrics={"fvd": (100.0, 4.0)})
        run.metrics["sharpness"] = MetricResult("sharpness", "1", blur, False, {"operator": "sobel"}, 0.05)
        save(root, run)
    return root


def test_a_plugin_metric_reaches_every_table_format(plugin_metric: None, tmp_path: Path) -> None:
    out = tmp_path / "lb"
    rendered = render_leaderboard(_results(tmp_path / "results"), out, formats=["md", "csv", "tex", "json", "html"],
                                  copy_results=False)
    col = rendered.leaderboard.column("blur")
    assert col.metric == "sharpness" and col.better == "lower"
    md = (out / "leaderboard.md").read_text()
    assert "Blur↓" in md and "| **1.25 px** ± 0.05 |" in md  # its decimals and unit; the best is bold
    assert "| Blur | 1 |" in md  # a row of the protocol table (its version)
    header = next(csv.reader(io.StringIO((out / "leaderboard.csv").read_text())))
    assert "blur" in header and "blur_std" in header
    assert "Blur" in (out / "leaderboard.tex").read_text() and "Plugin" in (out / "leaderboard.tex").read_text()
    data = json.loads((out / "leaderboard.json").read_text())
    assert {"key": "blur", "better": "lower"}.items() <= next(c for c in data["columns"] if c["key"] == "blur").items()
    assert [r["blur"] for r in data["rows"]] == [2.0, 1.25, 1.5]
    assert "Blur↓" in (out / "leaderboard.html").read_text()


def test_a_metric_without_rows_has_no_column(plugin_metric: None, tmp_path: Path) -> None:
    root = tmp_path / "results"
    save(root, make_run("baseline", metrics={"fvd": (100.0, 4.0)}))
    lb = render_leaderboard(root, tmp_path / "lb", formats=["md"], copy_results=False).leaderboard
    assert "blur" not in [c.key for c in lb.columns] and "fvd" in [c.key for c in lb.columns]


def test_built_in_columns_are_the_metrics_declarations() -> None:
    keys = [c.key for _, c in table.metric_columns()]
    assert keys[:8] == ["fvd", "kvd", "clipsim", "vbench_quality", "vbench_semantic", "vbench_total", "psnr", "ssim"]
    assert "clipscore" not in keys  # CLIPSIM in another convention declares no column
