"""Latency, fvcore breakdown, parameters, memory, utilisation, profile_method and the profile CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.test_profile_tiny_method import SPEC, TinyDenoiser, TinyVideoMethod, denoiser_flops
from vbench_lite.cost import CostProfile
from vbench_lite.profile import (
    LatencyReport,
    MethodError,
    denoiser_breakdown,
    measure_latency,
    profile_method,
    stage,
)
from vbench_lite.profile.hardware import matmul_peak
from vbench_lite.profile.memory import StagePeaks, cpu_peak_rss, stage_increases
from vbench_lite.profile.params import count_parameters
from vbench_lite.profile.stages import listening
from vbench_lite.spec import ProfileOptions

REPO = Path(__file__).resolve().parent.parent
FAST = ProfileOptions(warmup=0, repeats=2, batch_size=2, threads=1)


# -- latency --------------------------------------------------------------------------------------
def test_latency_refuses_fewer_than_two_repeats() -> None:
    with pytest.raises(ValueError, match="at least 2 measured repeats"):
        measure_latency(lambda: None, repeats=1)


def test_latency_median_iqr_runs_and_stages() -> None:
    def fn() -> None:
        with stage("denoise"):
            time.sleep(0.02)
        with stage("decode"):
            time.sleep(0.01)

    rep = measure_latency(fn, warmup=1, repeats=3, threads=1)
    assert len(rep.runs_s) == 3 and rep.warmup == 1 and rep.threads == 1 and rep.timer == "perf_counter"
    assert rep.median_s >= 0.03 and rep.median_s == sorted(rep.runs_s)[1]  # (upper bounds: a busy CI box)
    assert rep.iqr_s >= 0
    stages = rep.stage_median_s
    assert stages["denoise"] >= 0.02 and stages["decode"] >= 0.01
    assert stages["denoise"] + stages["decode"] <= rep.median_s
    stat = rep.stat(per=4)
    assert stat.median_s_per_video == rep.median_s / 4 and stat.runs_s == rep.runs_s
    d = rep.to_dict(per=4)  # one name per number: the per-video median is derived, not stored
    assert d["median_s"] == rep.median_s and "seconds_per_video" not in d and "median_s_per_video" not in d


def test_latency_fixes_and_restores_threads() -> None:
    before = torch.get_num_threads()
    seen = []
    rep = measure_latency(lambda: seen.append(torch.get_num_threads()), repeats=2, threads=2)
    assert rep.threads == 2 and set(seen) == {2}
    assert torch.get_num_threads() == before


def test_latency_flags_a_spread_above_ten_percent() -> None:
    delays = iter([0.005, 0.03, 0.005, 0.03])
    rep = measure_latency(lambda: time.sleep(next(delays)), warmup=0, repeats=4)
    assert rep.relative_iqr > 0.10 and rep.unstable
    steady = LatencyReport(runs_s=(1.0, 1.02, 0.99, 1.05), stage_runs_s={}, warmup=0, threads=1, device="cpu",
                           timer="perf_counter")
    assert steady.iqr_s == pytest.approx(0.03) and not steady.unstable


def test_latency_refuses_cuda_without_a_gpu() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        measure_latency(lambda: None, device="cuda")


# -- fvcore per-call breakdown ------------------------------------------------------------------
def test_fvcore_breakdown_agrees_with_torch_counter() -> None:
    net = TinyDenoiser().eval()
    x, cond = torch.randn(1, 4, 3, 6, 6), torch.randn(1, 8)
    b = denoiser_breakdown(net, (x, cond))
    assert b.torch_total == denoiser_flops(1, 3, 6, 6)
    assert abs(b.agreement - 1.0) <= 0.01
    assert b.dense_total == b.torch_total  # exact on these ops
    assert set(b.by_operator) == {"conv", "linear", "scaled_dot_product_attention"}
    attn = 4 * 3 * 2 * 36 * 36 * 4  # B*T frames x heads x (HW)^2 x head dim
    assert b.by_operator["scaled_dot_product_attention"] == attn
    assert b.by_module["temporal"] == 2 * 36 * 3 * 8 * 8 * 3
    assert b.by_module[""] == b.dense_total
    assert "group_norm" in b.norm_elementwise  # fvcore's estimate, kept apart
    assert "aten::silu" in b.uncounted_ops
    table = b.table()
    assert "temporal" in table and "(denoiser)" in table


# -- parameters, utilisation ----------------------------------------------------------------------
def test_parameters_total_and_at_inference() -> None:
    from vbench_lite.profile import count_flops

    m = TinyVideoMethod()
    m.load()
    report = count_flops(lambda: m.generate(["a"], [0], SPEC))
    p = count_parameters(m, report.touched_storages)
    n = {k: sum(x.numel() for x in getattr(m, k).parameters()) for k in ("text", "net", "decoder", "unused_head")}
    assert p["total"] == sum(n.values())
    assert p["at_inference"] == n["text"] + n["net"] + n["decoder"]  # the unused head never runs
    assert p["by_module"]["unused_head"] == {"total": n["unused_head"], "at_inference": 0}


def test_matmul_peak_is_measured_once_and_cached() -> None:
    first = matmul_peak("cpu", n=256, repeats=2)
    assert first["flops_per_s"] > 1e6 and first["unit"] == "FLOP/s"
    again = matmul_peak("cpu", n=256, repeats=2)
    assert again == first  # served from the cache, not re-measured


# -- profile_method ----------------------------------------------------------------------------------
def test_profile_method_numbers_fit_together() -> None:
    m = TinyVideoMethod("cfg")
    m.load()
    prof = profile_method(m, SPEC, FAST, ["a red circle", "a blue square"], [0, 1], memory=False)
    json.dumps(prof.to_dict())  # JSON-ready
    assert CostProfile.from_dict(json.loads(json.dumps(prof.to_dict()))) == prof  # round trip
    f = prof.flops
    per_call = denoiser_flops(1, SPEC.frames, 8, 8)  # one video's rows
    assert f.unit == "FLOP" and f.batch == 2 and f.denoiser_calls == 6
    assert f.per_denoiser_call == 2 * per_call  # one call at the generation batch size
    assert f.by_stage["denoise"] == 6 * per_call and f.total == f.batch_total / 2
    assert prof.denoiser_call["agreement"] == pytest.approx(1.0, abs=0.01)
    thr, one = prof.latency
    assert prof.throughput is thr and thr.per == 2 and one.per == 1 and prof.latency_at(1) is one
    assert thr.median_s_per_video == thr.median_s / 2
    assert set(thr.stage_median_s) == {"text", "denoise", "decode"}
    assert prof.threads == 1 and prof.device == "cpu"
    util = prof.utilisation
    assert 0 < util["fraction"] < 1.5
    assert util["achieved_flops_per_s"] == pytest.approx(2 * 6 * per_call / thr.stage_median_s["denoise"])
    assert prof.params.at_inference < prof.params.total

    # the leaderboard reads these numbers back through its accessors
    from vbench_lite.leaderboard import fields
    from vbench_lite.results import RunResult

    run = RunResult(method="tiny-profile", variant="cfg", suite="shapes", split="eval", num_videos=2,
                    eligible=False, spec={}, spec_hash="", profile=prof)
    assert fields.flops(run) == f.total
    assert fields.latency(run, batch=2) == thr.median_s_per_video
    assert fields.latency(run, batch=1) == one.median_s
    assert fields.params(run) == prof.params.total


def test_profile_without_latency_keeps_flops_and_parameters() -> None:
    m = TinyVideoMethod("cfg")
    m.load()
    timed = profile_method(m, SPEC, FAST, ["a red circle", "a blue square"], [0, 1], memory=False)
    untimed = profile_method(m, SPEC, dataclasses.replace(FAST, latency=False), ["a red circle", "a blue square"],
                             [0, 1], memory=False)
    assert untimed.latency == () and untimed.utilisation is None
    assert untimed.flops == timed.flops and untimed.params == timed.params

    from vbench_lite.leaderboard import fields
    from vbench_lite.results import RunResult

    run = RunResult(method="tiny-profile", variant="cfg", suite="shapes", split="eval", num_videos=2,
                    eligible=False, spec={}, spec_hash="", profile=untimed)
    assert fields.latency(run, batch=2) is None and fields.flops(run) == timed.flops.total


class _Broken(TinyVideoMethod):
    name = "broken"
    fault = ""

    def generate(self, prompts, seeds, spec):  # type: ignore[no-untyped-def]
        out = super().generate(prompts, seeds, spec)
        if self.fault == "raise":
            raise RuntimeError("sampler diverged")
        if self.fault == "shape":
            return out[:, :2]
        if self.fault == "nan":
            return torch.full(out.shape, float("nan"))
        return out


@pytest.mark.parametrize(("fault", "message"), [
    ("raise", "method 'broken': generate\\(\\) raised RuntimeError: sampler diverged"),
    ("shape", "method 'broken': generate\\(\\) returned shape \\(2, 2, 3, 32, 32\\)"),
    ("nan", "method 'broken': generate\\(\\) returned NaN"),
])
def test_profile_method_names_a_broken_method(fault: str, message: str) -> None:
    m = _Broken()
    m.fault = fault
    m.load()
    with pytest.raises(MethodError, match=message):
        profile_method(m, SPEC, FAST, ["a"], [0], memory=False)


def test_stage_peaks_split_a_high_water_mark() -> None:
    class Heap:  # a fake allocator with a resettable high-water mark
        current = peak = 100

        def alloc(self, n: int) -> None:
            self.current += n
            self.peak = max(self.peak, self.current)

        def reset(self) -> None:
            self.peak = self.current

    heap = Heap()
    peaks = StagePeaks(lambda: heap.peak, heap.reset)
    with listening(peaks):
        with stage("text"):
            heap.alloc(10)
            heap.alloc(-10)
        with stage("denoise"):
            heap.alloc(50)
            with stage("decode"):  # nested: counts for both
                heap.alloc(30)
                heap.alloc(-30)
            heap.alloc(-50)
        heap.alloc(5)  # outside every stage
    assert peaks.finish() == 180
    assert stage_increases(peaks, 100) == {"text": 10, "denoise": 80, "decode": 80}


class _Untraceable(TinyVideoMethod):
    def denoiser(self):  # type: ignore[no-untyped-def]
        net, (x, cond) = super().denoiser()
        return net, (x, "a prompt string fvcore cannot trace")


def test_a_denoiser_fvcore_cannot_trace_is_recorded_not_fatal() -> None:
    m = _Untraceable()
    m.load()
    prof = profile_method(m, SPEC, FAST, ["a"], [0], memory=False)
    assert "error" in prof.denoiser_call and prof.flops.total > 0
    from vbench_lite.cli.profile_cmd import render

    assert "fvcore breakdown failed" in render(prof)


# -- peak memory in a fresh process, and the CLI (the method registered like a plugin) -------------
@pytest.fixture
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fake installed distribution whose entry point registers TinyVideoMethod."""
    dist = tmp_path / "site" / "tiny_profile_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-profile-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[vbench_lite.methods]\ntiny-profile = tests.test_profile_tiny_method:TinyVideoMethod\n")
    path = os.pathsep.join([str(dist.parent), str(REPO), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    return {**os.environ, "PYTHONPATH": path}


def test_peak_memory_subprocess_names_a_method_it_cannot_load(registered: dict[str, str]) -> None:
    with pytest.raises(RuntimeError, match="method 'nope': the peak-memory subprocess failed"):
        cpu_peak_rss("nope", SPEC, ["a"], [0], threads=1)


def test_profile_cli_writes_profile_json(registered: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "vbench_lite", "profile", "--method", "tiny-profile:cfg", "--out", str(out),
           "--batch-size", "2", "--repeats", "2", "--warmup", "0", "--threads", "1", "--frames", "4"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=registered, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "FLOP per video" in proc.stdout and "peak memory" in proc.stdout
    prof = json.loads((out / "profiles" / "tiny-profile:cfg" / "profile.json").read_text())
    assert prof["method"] == "tiny-profile:cfg" and prof["flops"]["per_denoiser_call"] == denoiser_flops(2, 4, 8, 8)
    mem = prof["memory"]  # measured in a fresh process that loaded the method by registry name
    assert mem["device"] == "cpu" and mem["output_shape"] == [1, 4, 3, 32, 32] and mem["threads"] == 1
    assert mem["peak_bytes"] >= mem["before_bytes"] > 0
    assert mem["increase_bytes"] == mem["peak_bytes"] - mem["before_bytes"]
    assert set(mem["stage_increase_bytes"]) == {"text", "denoise", "decode"}
    assert max(mem["stage_increase_bytes"].values()) <= mem["increase_bytes"]


def test_profile_cli_refuses_one_repeat(capsys: pytest.CaptureFixture[str]) -> None:
    from vbench_lite.cli import main

    assert main(["profile", "--method", "baseline", "--repeats", "1"]) == 2
    assert "at least 2 measured repeats" in capsys.readouterr().err


def test_nn_module_helpers_do_not_count_shared_parameters_twice() -> None:
    class Holder:
        def __init__(self) -> None:
            shared = nn.Linear(3, 3)
            self.a, self.nets = shared, {"same": shared, "other": nn.Sequential(nn.Linear(3, 2))}

        def denoiser(self):  # type: ignore[no-untyped-def]
            return self.nets["other"][0], ()  # a submodule of a held network: not listed again

    p = count_parameters(Holder())
    assert p["total"] == 12 + 8 and p["at_inference"] is None
    assert set(p["by_module"]) == {"a", "nets.other"}
