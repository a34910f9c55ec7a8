"""`vbench-lite check`: the regression policy and its exit codes (0 pass, 1 regression, 2 not comparable)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_leaderboard_fixtures import make_run, save
from vbench_lite.cli import main as cli
from vbench_lite.leaderboard.check import compare, parse_abs

BASE_METRICS = {"fvd": (100.0, 2.0), "kvd": (0.02, 0.002), "clipsim": 0.30, "psnr": float("inf"), "ssim": 1.0}


def ref(**kw) -> object:
    args = {"metrics": dict(BASE_METRICS), "run_id": "ref"} | kw
    return make_run("baseline", **args)


def new(metrics: dict | None = None, **kw) -> object:
    m = dict(BASE_METRICS) | (metrics or {})
    return make_run("baseline", created="2026-11-23T00:00:00Z", run_id="new", metrics=m, **kw)


def run_check(tmp_path: Path, result, baseline, *extra: str) -> int:
    r = save(tmp_path / "r", result)
    b = save(tmp_path / "b", baseline)
    return cli(["check", "--results", str(r), "--baseline", str(b), *extra])


def test_identical_runs_pass(tmp_path: Path, capsys) -> None:
    assert run_check(tmp_path, new(), ref()) == 0
    out = capsys.readouterr().out
    assert "| Check | Baseline | Result | Change |" in out and "**PASS**" in out
    assert "| fvd↓ | 100 | 100 | 0 | rel 5%, abs 4 | ok |" in out  # abs = 2 x the larger std (2.0)
    assert "| flops (=) | 250000000000 | 250000000000 | 0 | exact | ok |" in out


def test_regression_needs_both_thresholds(tmp_path: Path) -> None:
    # FVD +10%: beyond rel 5%, and beyond 2 x max std = 2 x 3 = 6 -> regression
    assert run_check(tmp_path / "a", new({"fvd": (110.0, 3.0)}), ref()) == 1
    # FVD +10% but stds of 6 make the absolute threshold 12 -> within noise
    assert run_check(tmp_path / "b", new({"fvd": (110.0, 6.0)}), ref()) == 0
    # an explicit absolute threshold replaces the std rule
    assert run_check(tmp_path / "c", new({"fvd": (110.0, 6.0)}), ref(), "--abs", "fvd=5") == 1
    # CLIPSIM (no std): abs defaults to 0, so the relative threshold alone decides
    assert run_check(tmp_path / "d", new({"clipsim": 0.29}), ref()) == 0  # -3.3%
    assert run_check(tmp_path / "e", new({"clipsim": 0.28}), ref()) == 1  # -6.7%
    assert run_check(tmp_path / "f", new({"clipsim": 0.28}), ref(), "--rel", "0.1") == 0


def test_improvement_is_not_a_regression(tmp_path: Path, capsys) -> None:
    assert run_check(tmp_path, new({"fvd": (50.0, 2.0), "clipsim": 0.35}), ref()) == 0
    out = capsys.readouterr().out
    assert "| fvd↓ | 100 | 50 | -50 (-50.00%) |" in out and "improved" in out


def test_psnr_dropping_from_infinity_is_a_regression() -> None:
    report = compare(new({"psnr": 60.0}), ref())
    assert report.exit_code == 1 and [c.name for c in report.regressions] == ["psnr"]


def test_flops_and_params_must_match_exactly(tmp_path: Path, capsys) -> None:
    assert run_check(tmp_path / "a", new(flops=2.5e11 + 2), ref()) == 1
    out = capsys.readouterr().out
    assert "**REGRESSION** (must match exactly)" in out and "REGRESSION: flops" in out
    assert run_check(tmp_path / "b", new(flops=2.0e11), ref()) == 1  # cheaper is a change too
    assert run_check(tmp_path / "c", new(params=999), ref()) == 1
    assert run_check(tmp_path / "d", new(params=999), ref(), "--no-cost") == 0
    assert run_check(tmp_path / "e", new(flops=None), ref()) == 2  # baseline records FLOPs, results not


def test_latency_compared_only_on_the_same_setting(tmp_path: Path, capsys) -> None:
    # same device and threads: twice as slow is a regression
    assert run_check(tmp_path / "a", new(latency=1.6), ref()) == 1
    # other thread count: skipped (auto), refused (require), or never compared (skip)
    assert run_check(tmp_path / "b", new(latency=1.6, threads=8), ref()) == 0
    assert "skipped (threads differ: cpu (Test CPU, 8 threads) vs cpu (Test CPU, 2 threads))" in capsys.readouterr().out
    assert run_check(tmp_path / "c", new(latency=1.6, threads=8), ref(), "--latency", "require") == 2
    assert run_check(tmp_path / "d", new(latency=1.6), ref(), "--latency", "skip") == 0
    # within 5% is noise; +6.25% is beyond 5% and beyond twice the IQR (2 x 0.01 s); --abs widens it
    assert run_check(tmp_path / "e", new(latency=0.82), ref()) == 0
    assert run_check(tmp_path / "f", new(latency=0.85), ref()) == 1
    capsys.readouterr()
    assert run_check(tmp_path / "g", new(latency=0.85), ref(), "--abs", "latency_s=0.1") == 0
    assert "| latency_s↓ | 0.8 | 0.85 | +0.05 (+6.25%) | rel 5%, abs 0.1 | ok |" in capsys.readouterr().out


def test_not_comparable_exits_2(tmp_path: Path, capsys) -> None:
    other_detector = new({"fvd": (100.0, 2.0)})
    other_detector.metrics["fvd"].protocol["detector"] = "i3d"
    assert run_check(tmp_path / "a", other_detector, ref()) == 2
    out = capsys.readouterr().out
    assert "not comparable: fvd was measured under another protocol (detector differ)" in out
    assert run_check(tmp_path / "b", new(num_videos=64), ref()) == 2
    assert run_check(tmp_path / "c", new(split="validation"), ref()) == 2
    # a metric of the baseline that the results lack: not comparable unless it is left out
    missing = new()
    del missing.metrics["clipsim"]
    assert run_check(tmp_path / "d", missing, ref()) == 2
    assert run_check(tmp_path / "e", missing, ref(), "--metrics", "fvd,kvd,psnr,ssim") == 0
    # not comparable wins over a regression
    worse_and_other = new({"fvd": (500.0, 2.0)}, num_videos=64)
    assert compare(worse_and_other, ref()).exit_code == 2


def test_other_suite_and_other_schema(tmp_path: Path, capsys) -> None:
    assert run_check(tmp_path / "a", new(suite="other"), ref()) == 2
    assert "suite differ (other vs baseline shapes)" in capsys.readouterr().out
    d = tmp_path / "v2"
    d.mkdir()
    (d / "results.json").write_text(json.dumps(new().to_dict() | {"schema": "vbench_lite.results/3"}))
    b = save(tmp_path / "b", ref())
    assert cli(["check", "--results", str(d), "--baseline", str(b)]) == 2
    assert "not supported" in capsys.readouterr().err


def test_folders_pick_the_latest_run_and_need_method_when_ambiguous(tmp_path: Path, capsys) -> None:
    root = tmp_path / "results"
    save(root, make_run("baseline", created="2026-11-20T00:00:00Z", run_id="old", metrics={"fvd": (500.0, 1.0)}))
    save(root, new())
    b = save(tmp_path / "b", ref())
    assert cli(["check", "--results", str(root), "--baseline", str(b)]) == 0  # the newer run is used
    save(root, make_run("tpdiff", metrics=dict(BASE_METRICS)))
    assert cli(["check", "--results", str(root), "--baseline", str(b)]) == 2
    assert "holds runs of several methods (baseline, tpdiff); pick one with --method" in capsys.readouterr().err
    assert cli(["check", "--results", str(root), "--baseline", str(b), "--method", "baseline", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "PASS" and report["results_path"].endswith("new/results.json")
    psnr = next(c for c in report["comparisons"] if c["name"] == "psnr")
    assert psnr["baseline"] == "inf" and psnr["status"] == "ok"


def test_bad_thresholds_are_usage_errors(tmp_path: Path, capsys) -> None:
    assert run_check(tmp_path / "a", new(), ref(), "--abs", "fvd") == 2
    assert "--abs expects NAME=VALUE" in capsys.readouterr().err
    assert run_check(tmp_path / "b", new(), ref(), "--abs", "nosuch=1") == 2
    assert run_check(tmp_path / "c", new(), ref(), "--metrics", "nosuch") == 2
    assert "not in the baseline" in capsys.readouterr().err
    assert parse_abs(["fvd=5,kvd=0.01", "clipsim=0.002"]) == {"fvd": 5.0, "kvd": 0.01, "clipsim": 0.002}
    with pytest.raises(ValueError, match="VALUE >= 0"):
        parse_abs(["fvd=-1"])


def test_check_reads_what_the_run_pipeline_writes(tmp_path: Path, capsys) -> None:
    """End to end on real pipeline output (the toy test plugin's method and metric)."""
    from vbench_lite.pipeline import run
    from vbench_lite.spec import ProfileOptions, RunSpec

    def do(method: str, out: Path) -> Path:
        spec = RunSpec.for_method(method, num_videos=4, metrics=("toy-mean",), profile=ProfileOptions(enabled=False))
        return run(spec, out=out, progress=False).run_dir

    ref_dir, again, dark = do("toy", tmp_path / "a"), do("toy", tmp_path / "b"), do("toy:dark", tmp_path / "c")
    assert cli(["check", "--results", str(again), "--baseline", str(ref_dir)]) == 0
    assert "**PASS**" in capsys.readouterr().out
    assert cli(["check", "--results", str(dark), "--baseline", str(ref_dir)]) == 1  # darker: toy-mean drops
    assert "REGRESSION: toy-mean" in capsys.readouterr().out


def test_empty_or_unknown_metric_list_is_a_usage_error(tmp_path: Path, capsys) -> None:
    # a check that checks no quality metric must never pass (issue 18)
    assert run_check(tmp_path / "a", new(), ref(), "--metrics", ",") == 2
    assert "--metrics names no metric" in capsys.readouterr().err
    assert run_check(tmp_path / "b", new(), ref(), "--metrics", "") == 2
    assert run_check(tmp_path / "c", new(), ref(), "--metrics", "nosuch,other") == 2
    assert "not in the baseline" in capsys.readouterr().err
    with pytest.raises(ValueError, match="names no metric"):
        compare(new(), ref(), metrics=[])


def test_other_fingerprint_same_protocol_is_compared_with_a_warning(tmp_path: Path, capsys) -> None:
    """Another CPU renders the same protocol's reference with other bytes: compared, and said so."""
    baseline, result = ref(), new({"fvd": (100.5, 2.0)})
    baseline.metrics["fvd"].fingerprint = {"reference_sha256": "a" * 64, "reference_features_sha256": "c" * 64}
    result.metrics["fvd"].fingerprint = {"reference_sha256": "b" * 64, "reference_features_sha256": "c" * 64}
    assert run_check(tmp_path / "a", result, baseline) == 0
    out = capsys.readouterr().out
    assert "| fvd↓ | 100 | 100.5 | +0.5 (+0.50%) | rel 5%, abs 4 | ok (fingerprint differs: reference_sha256) |" in out
    assert f"- warning: fvd: same protocol, other content (reference_sha256 {'b' * 12} vs baseline {'a' * 12})" in out
    assert "**PASS**" in out
    # the gate still applies: a regression under another fingerprint is a regression
    worse = new({"fvd": (150.0, 2.0)})
    worse.metrics["fvd"].fingerprint = {"reference_sha256": "b" * 64}
    report = compare(worse, baseline)
    assert report.exit_code == 1 and report.warnings and report.to_dict()["warnings"] == report.warnings
    # a differing protocol is still refused, whatever the fingerprints
    other = new()
    other.metrics["fvd"].protocol["weights_sha256"] = "cd" * 32
    assert compare(other, baseline).exit_code == 2


def test_legacy_records_with_content_hashes_in_the_protocol_compare(tmp_path: Path, capsys) -> None:
    """Results written before issue 18 kept reference_sha256 in the protocol: read as a fingerprint."""
    baseline = ref()
    b = save(tmp_path / "b", baseline)
    data = json.loads((b / "results.json").read_text())
    data["metrics"]["fvd"]["protocol"]["reference_sha256"] = "a" * 64
    data["metrics"]["fvd"].pop("fingerprint")
    (b / "results.json").write_text(json.dumps(data))
    result = new()
    result.metrics["fvd"].fingerprint = {"reference_sha256": "b" * 64}
    r = save(tmp_path / "r", result)
    assert cli(["check", "--results", str(r), "--baseline", str(b)]) == 0
    assert "fingerprint differs: reference_sha256" in capsys.readouterr().out
