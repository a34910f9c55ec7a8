"""The paired latency protocol: interleaving, ratio of medians, bootstrap interval, stability flags,
the profile's speedup record, the leaderboard's accessors and the `compare` command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_profile import registered  # noqa: F401  (fixture)
from tests.test_profile_tiny_method import SPEC, TinyVideoMethod
from vbench_lite.profile.latency import TimedRun, runqueue_wait_s
from vbench_lite.profile.method_profile import profile_method
from vbench_lite.profile.paired import (
    Arm,
    PairedLatency,
    bootstrap_interval,
    measure_paired,
    ratio_of_medians,
)
from vbench_lite.spec import ProfileOptions


def _busy(n: int) -> None:
    x = 0
    for i in range(n):
        x += i * i


def _runs(wall: list[float], cpu: list[float] | None = None, wait: float | None = 0.0) -> tuple[TimedRun, ...]:
    cpu = cpu or wall
    return tuple(TimedRun(w, c, wait, {}) for w, c in zip(wall, cpu, strict=True))


def _paired(method: tuple[TimedRun, ...], reference: tuple[TimedRun, ...], **kw: object) -> PairedLatency:
    base = dict(order=("AB", "BA") * (len(method) // 2) + ("AB",) * (len(method) % 2), warmup=1, threads=1,
                device="cpu", timer="perf_counter", cores=2, load_before=0.1, load_during=(0.2,) * len(method),
                load_after=0.3)
    return PairedLatency(Arm("m", method), Arm("ref", reference), **{**base, **kw})  # type: ignore[arg-type]


def test_bootstrap_interval_of_an_exact_ratio_is_the_ratio() -> None:
    ref = np.array([2.0, 4.0, 3.0, 5.0])
    assert bootstrap_interval(ref, ref / 2) == pytest.approx((2.0, 2.0))
    assert ratio_of_medians(ref, ref / 2) == pytest.approx(2.0)


def test_bootstrap_interval_is_seeded_and_holds_the_estimate() -> None:
    rng = np.random.default_rng(1)
    ref, meth = 1.5 + 0.1 * rng.standard_normal(9), 1.0 + 0.1 * rng.standard_normal(9)
    lo, hi = bootstrap_interval(ref, meth)
    assert (lo, hi) == bootstrap_interval(ref, meth)  # the same runs give the same interval
    assert lo < ratio_of_medians(ref, meth) < hi and hi - lo > 0.01
    with pytest.raises(ValueError, match="two equal 1-D samples of at least 2"):
        bootstrap_interval(ref, meth[:3])


def test_pairs_alternate_after_warmup_and_give_the_work_ratio() -> None:
    calls: list[str] = []

    def a() -> None:
        calls.append("A")
        _busy(100_000)

    def b() -> None:
        calls.append("B")
        _busy(200_000)

    p = measure_paired(a, b, names=("fast", "slow"), pairs=4, warmup=1, threads=1, per=2)
    assert "".join(calls) == "AB" + "ABBAABBA"  # warm-up pair, then AB, BA, AB, BA
    assert p.order == ("AB", "BA", "AB", "BA") and p.pairs == 4 and p.threads == 1 and p.per == 2
    assert len(p.method.runs) == len(p.reference.runs) == 4
    assert 1.3 < p.cpu_speedup < 3.0  # twice the work; CPU time is what load disturbs least
    d = p.to_dict()
    assert d["method"] == "fast" and d["reference"] == "slow" and d["pairs"] == 4
    assert d["interval"][0] <= d["speedup"] <= d["interval"][1]
    assert d["method_runs"]["median_s_per_video"] == pytest.approx(d["method_runs"]["median_s"] / 2)
    assert len(d["method_runs"]["cpu_runs_s"]) == 4 and len(d["load_during"]) == 4
    assert isinstance(d["unstable"], bool) and isinstance(d["unstable_reasons"], list)


def test_refuses_fewer_than_two_pairs() -> None:
    with pytest.raises(ValueError, match="at least 2 pairs"):
        measure_paired(lambda: None, lambda: None, pairs=1)


def test_a_quiet_tight_measurement_is_stable() -> None:
    p = _paired(_runs([1.0, 1.01, 0.99, 1.0]), _runs([1.5, 1.51, 1.49, 1.5]))
    assert p.speedup == pytest.approx(1.5) and p.unstable_reasons == [] and not p.unstable


def test_load_wait_cpu_wall_and_width_each_mark_a_measurement_unstable() -> None:
    meth, ref = _runs([1.0, 1.01, 0.99, 1.0]), _runs([1.5, 1.51, 1.49, 1.5])
    loaded = _paired(meth, ref, load_after=4.2)
    assert loaded.unstable and "load average 4.20 on 2 usable cores" in loaded.unstable_reasons[0]
    waited = _paired(_runs([1.0, 1.01, 0.99, 1.0], wait=0.3), ref)
    assert any("waited 30% of the time" in r for r in waited.unstable_reasons)
    # wall says 1.5x, CPU time says 1.0x: the wall clock counted someone else's work
    skewed = _paired(_runs([1.0, 1.01, 0.99, 1.0], cpu=[1.5] * 4), ref)
    assert any("CPU-time speedup 1.000 differ" in r for r in skewed.unstable_reasons)
    descheduled = _paired(_runs([1.0, 1.01, 0.99, 1.0], cpu=[0.3, 0.3, 0.3, 0.3]),
                          _runs([1.5, 1.51, 1.49, 1.5], cpu=[0.45] * 4))
    assert any("ran on 0.30 cores on average" in r for r in descheduled.unstable_reasons)
    wide = _paired(_runs([1.0, 1.6, 0.7, 1.3]), ref)
    assert any("wider than ±5%" in r for r in wide.unstable_reasons)
    on_gpu = _paired(_runs([1.0, 1.01, 0.99, 1.0], cpu=[1.5] * 4, wait=0.3), ref, device="cuda")
    assert on_gpu.unstable_reasons == []  # host CPU time says nothing about GPU work


def test_runqueue_wait_is_read_where_linux_reports_it() -> None:
    w = runqueue_wait_s()
    if Path("/proc/self/task").is_dir():
        assert w is not None and w >= 0
    else:
        assert w is None


def test_profile_pairs_the_batch_latency_with_the_reference() -> None:
    m, ref = TinyVideoMethod(), TinyVideoMethod("cfg")  # the reference makes twice the denoiser calls
    m.load(), ref.load()
    opts = ProfileOptions(warmup=0, repeats=3, batch_size=2, threads=1)
    prof = profile_method(m, SPEC, opts, ["a red circle", "a blue square"], [0, 1], memory=False, reference=ref)
    sp = prof.speedup
    assert sp["method"] == "tiny-profile" and sp["reference"] == "tiny-profile:cfg" and sp["pairs"] == 3
    assert sp["batch"] == 2 and sp["threads"] == 1 and sp["order"] == ["AB", "BA", "AB"]
    assert sp["interval"][0] <= sp["speedup"] <= sp["interval"][1]
    # the batch latency is the method's arm of the pairs, not a separate measurement
    assert list(prof.latency_at(2).runs_s) == sp["method_runs"]["wall_runs_s"]
    alone = profile_method(m, SPEC, opts, ["a red circle", "a blue square"], [0, 1], memory=False)
    assert alone.speedup is None and len(alone.latency_at(2).cpu_runs_s) == 3


def _run_with(method: str, variant: str | None, profile: dict | None, weights: str = "w0"):  # type: ignore[no-untyped-def]
    from vbench_lite.results import RunResult

    return RunResult(method=method, variant=variant, suite="shapes", split="eval", num_videos=4, eligible=True,
                     spec={}, spec_hash="", method_info={"weights_sha256": weights}, profile=profile,
                     env={"cpu": "Test CPU", "device": "cpu"})


def test_leaderboard_reads_the_paired_speedup_against_its_reference() -> None:
    from vbench_lite.leaderboard import fields

    rec = {"speedup": 1.52, "interval": [1.47, 1.58], "reference": "baseline", "reference_weights_sha256": "w0",
           "batch": 16, "device": "cpu", "threads": 2, "unstable": True, "unstable_reasons": ["load average 4.2"]}
    base = _run_with("baseline", None, {})
    tp = _run_with("tpdiff", None, {"speedup": rec})
    assert fields.speedup(base, base) == 1.0 and fields.speedup_interval(base, base) is None
    assert fields.speedup(tp, base) == 1.52 and fields.speedup_interval(tp, base) == (1.47, 1.58)
    assert fields.speedup(tp, None, "baseline") == 1.52  # reference row left out of the table: matched by name
    assert fields.speedup(tp, None) is None  # no reference named: no speedup
    assert fields.speedup_unstable(tp) == ["load average 4.2"]
    assert fields.speedup_setting(tp) == {"protocol": "paired-interleaved", "reference": "baseline",
                                          "reference_weights_sha256": "w0", "batch": 16, "device": "cpu",
                                          "threads": 2, "hardware": "Test CPU"}
    other_build = _run_with("baseline", None, {}, weights="w1")
    assert fields.speedup(tp, other_build) is None  # measured against another baseline's weights
    assert fields.speedup(_run_with("tpdiff", None, {"speedup": {**rec, "reference": "sned"}}), base) is None
    assert fields.speedup(_run_with("tpdiff", None, {}), base) is None  # no paired record: not a speedup


def test_compare_cli_writes_the_paired_record(registered: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "vbench_lite", "compare", "--method", "tiny-profile", "--reference",
           "tiny-profile:cfg", "--out", str(out), "--batch-size", "2", "--pairs", "3", "--warmup", "0",
           "--threads", "1", "--frames", "4"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=registered, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "speedup (wall, ratio of medians)" in proc.stdout and "load average" in proc.stdout
    (path,) = (out / "compare" / "tiny-profile").glob("vs-tiny-profile:cfg-*.json")
    rec = json.loads(path.read_text())
    assert rec["pairs"] == 3 and rec["threads"] == 1 and rec["prompts"] == {"suite": "shapes", "split": "validation",
                                                                          "count": 2}
    assert rec["generation"]["frames"] == 4 and rec["env"]["cpu"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--method", "baseline", "--reference", "baseline"], "compare two different methods"),
    (["--method", "tpdiff", "--pairs", "1"], "--pairs must be at least 2"),
    (["--method", "tpdif"], "Did you mean"),
    (["--method", "tpdiff", "--device", "cuda:7"], "CUDA is not available"),
])
def test_compare_cli_bad_input_is_one_line_exit_2(argv: list[str], message: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from vbench_lite.cli import main

    if "cuda:7" in argv and torch.cuda.is_available():
        pytest.skip("a CUDA machine")
    t0 = time.perf_counter()
    assert main(["compare", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert time.perf_counter() - t0 < 30  # refused before any generation


def test_leaderboard_refuses_speedups_of_different_settings_and_names_unstable_ones(tmp_path: Path) -> None:
    from tests.test_leaderboard_fixtures import make_run, save
    from vbench_lite.leaderboard import collect, table, tables

    root = tmp_path / "results"
    save(root, make_run("baseline", metrics={}, latency=1.0))
    fast = make_run("tpdiff", metrics={}, latency=0.5, speedup=(2.0, 1.9, 2.1))
    fast.profile.speedup.update(unstable=True, unstable_reasons=["load average 4.20 on 2 usable cores"])
    save(root, fast)
    lb = table.build(collect.latest_eligible(collect.load_runs(root, suite="shapes")), suite="shapes")
    assert "Speedups measured on a busy machine (flagged unstable): tpdiff (load average 4.20 on 2 usable cores)" \
        in lb.caption
    assert "2.00× [1.90, 2.10]" in tables.render_md(lb)
    other = make_run("vdmini", metrics={}, latency=0.5, speedup=(1.5, 1.4, 1.6))
    other.profile.speedup["batch"] = 4  # paired at another batch size: not the same measurement
    save(root, other)
    with pytest.raises(table.ProtocolMismatchError, match=r"Speedup↑ mixes protocols.*batch"):
        table.build(collect.latest_eligible(collect.load_runs(root, suite="shapes")), suite="shapes")
