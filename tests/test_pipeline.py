from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vbench_lite.cli import main
from vbench_lite.pipeline import run
from vbench_lite.pipeline.generation import micro_batches
from vbench_lite.pipeline.runner import is_eligible
from vbench_lite.results import RunResult, read_samples
from vbench_lite.spec import ProfileOptions, RunSpec
from vbench_lite.suites.shapes import ShapesSuite
from vbench_lite.video import read_video

from .conftest import PLUGINS

NO_PROFILE = ProfileOptions(enabled=False)


def _spec(method: str = "toy", **kw) -> RunSpec:
    base = dict(num_videos=8, metrics=("toy-mean",), profile=NO_PROFILE)
    base.update(kw)
    return RunSpec.for_method(method, **base)


def test_run_writes_the_results_directory(tmp_path: Path) -> None:
    out = run(_spec(), out=tmp_path, progress=False)
    d = out.run_dir
    assert d is not None and d.parent == tmp_path / "shapes" / "toy"
    r = RunResult.load(d)
    assert r.method == "toy" and r.num_videos == 8 and not r.eligible
    assert set(r.metrics) == {"toy-mean", "toy-spread"}
    assert 0.45 < r.metrics["toy-mean"].value < 0.55
    rows = read_samples(d)
    assert [row.index for row in rows] == list(range(8))
    assert rows[0].prompt == ShapesSuite().items("eval", 1)[0].prompt
    assert rows[0].scores["toy-mean"] == pytest.approx(out.videos[0].float().mean().item() / 255, rel=1e-6)
    assert torch.equal(read_video(d / rows[3].path), out.videos[3])
    assert r.env["torch_threads"] >= 1 and r.videos_sha256


def test_variant_and_eligibility(tmp_path: Path) -> None:
    dark = run(_spec(method="toy:dark"), out=tmp_path, progress=False)
    assert dark.run_dir.parent.name == "toy:dark"
    assert dark.result.metrics["toy-mean"].value < 0.3
    suite = ShapesSuite()
    assert is_eligible(RunSpec(method="toy"), suite)
    assert not is_eligible(RunSpec(method="toy", num_videos=10), suite)
    assert not is_eligible(RunSpec(method="toy", split="validation"), suite)


def test_batch_size_never_changes_a_number() -> None:
    a = run(_spec(batch_size=16, num_videos=10), progress=False, use_cache=False).result
    b = run(_spec(batch_size=3, num_videos=10), progress=False, use_cache=False).result
    assert a.videos_sha256 == b.videos_sha256
    for k in a.metrics:
        assert a.metrics[k].value == b.metrics[k].value  # every digit


def test_canonical_micro_batches_follow_the_index() -> None:
    items = ShapesSuite().items("eval", 10, offset=5)
    batches = micro_batches(items, 4)
    assert [[it.index for it in b] for b in batches] == [[5, 6, 7], [8, 9, 10, 11], [12, 13, 14]]


def test_cache_and_resume_after_interruption(tmp_path: Path) -> None:
    import vbench_lite

    adapter = vbench_lite.load_method("toy")
    original = type(adapter).generate
    calls = {"n": 0}

    def flaky(self, prompts, seeds, spec):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, prompts, seeds, spec)

    adapter.generate = flaky.__get__(adapter)  # type: ignore[method-assign]
    spec = _spec(num_videos=20, batch_size=4, seed_offset=100, split="validation")
    finished = run(_spec(num_videos=4, batch_size=4, seed_offset=200, split="validation"), adapter=adapter,
                   progress=False, out=tmp_path).run_dir
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        run(spec, adapter=adapter, progress=False, out=tmp_path)
    assert calls["n"] == 3  # two batches finished and were cached
    # no half-written run folder is left behind, and the earlier complete run is untouched
    assert [p for p in tmp_path.rglob("*") if p.is_dir() and p.parent.parent.parent == tmp_path] == [finished]
    assert (finished / "results.json").is_file()
    first = run(spec, adapter=adapter, progress=False)
    assert calls["n"] == 3 + 3  # only the three missing batches were generated
    run(spec, adapter=adapter, progress=False)
    assert calls["n"] == 6  # everything cached now
    fresh = run(spec, progress=False, use_cache=False)
    assert fresh.result.videos_sha256 == first.result.videos_sha256


def test_cli_run_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--method", "toy", "--metrics", "toy-mean", "--num-videos", "4", "--no-profile", "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "toy-mean" in out and "not eligible" in out
    assert main(["run", "--method", "tyo", "--no-profile", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown method 'tyo'" in err and "Did you mean 'toy'" in err and len(err.strip().splitlines()) == 1
    assert main(["run", "--method", "toy", "--metrics", "toy-maen", "--out", str(tmp_path)]) == 2
    assert "Did you mean 'toy-mean'" in capsys.readouterr().err
    assert main(["run", "--method", "toy:bright", "--no-profile", "--out", str(tmp_path)]) == 2
    assert "no variant 'bright'" in capsys.readouterr().err


def test_bad_method_output_names_the_method() -> None:
    import vbench_lite

    adapter = vbench_lite.load_method("toy")
    adapter.generate = lambda prompts, seeds, spec: torch.zeros(len(prompts), 16, 3, 32, 32)  # float
    with pytest.raises(ValueError, match="method 'toy' returned invalid videos"):
        run(_spec(), adapter=adapter, progress=False, use_cache=False)
    adapter.generate = lambda prompts, seeds, spec: torch.zeros(len(prompts), 8, 3, 32, 32, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"method 'toy' returned videos of shape .* expected"):
        run(_spec(), adapter=adapter, progress=False, use_cache=False)


@pytest.mark.distributed
def test_torchrun_two_processes_equal_single_process(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(PLUGINS), OMP_NUM_THREADS="1", VBENCH_LITE_CACHE=str(tmp_path / "cache"))
    common = ["-m", "vbench_lite", "run", "--method", "toy", "--metrics", "toy-mean", "--num-videos", "12",
              "--batch-size", "4", "--no-profile", "--no-cache", "--json"]
    single = subprocess.run([sys.executable, *common, "--out", str(tmp_path / "one")], env=env,
                            capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    multi = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         *common, "--out", str(tmp_path / "two")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert multi.returncode == 0, multi.stderr[-2000:]
    a = RunResult.from_dict(json.loads(single.stdout))
    b = RunResult.load(next((tmp_path / "two" / "shapes" / "toy").iterdir()))
    assert b.env["world_size"] == 2 and a.env["world_size"] == 1
    assert a.videos_sha256 == b.videos_sha256
    assert {k: m.value for k, m in a.metrics.items()} == {k: m.value for k, m in b.metrics.items()}


def test_cli_refuses_one_latency_repeat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--method", "toy", "--latency-repeats", "1", "--out", str(tmp_path)]) == 2
    assert "at least 2 measured repeats" in capsys.readouterr().err


def test_score_cache_never_reuses_scores_of_other_weights_or_settings(tmp_path: Path) -> None:
    """Another local weights file (same path, new content), or other settings, must re-score every video."""
    import dataclasses

    from toy_plugin import ToyMeanMetric

    import vbench_lite.pipeline.scoring as scoring
    from vbench_lite.metrics.base import MetricConfig, MetricContext

    @dataclasses.dataclass(frozen=True)
    class NetConfig(MetricConfig):
        net_weights: str | None = None
        frames: int = 4

    class NetMetric(ToyMeanMetric):
        name = "toy-net"
        config_class = NetConfig

    local = tmp_path / "net.pt"
    local.write_bytes(b"local weights")
    metric, ctx = NetMetric(NetConfig(net_weights=str(local))), MetricContext()
    key = scoring._metric_key(metric, ctx, "")
    assert scoring._metric_key(metric, ctx, "") == key  # stable
    local.write_bytes(b"other local weights")
    key2 = scoring._metric_key(metric, ctx, "")
    assert key2 != key
    assert scoring._metric_key(NetMetric(NetConfig(net_weights=str(local), frames=8)), ctx, "") not in (key, key2)
    assert scoring._metric_key(metric, ctx, "reference b") != key2  # e.g. fidelity's reference method


def test_score_cache_key_names_the_detector_that_runs() -> None:
    """FVD's per-video features are keyed by the detector's protocol (its weights SHA-256 included),
    the one the suite declares when the config names none."""
    import vbench_lite.pipeline.scoring as scoring
    from vbench_lite.metrics.base import MetricContext
    from vbench_lite.metrics.detectors import load_detector
    from vbench_lite.metrics.distribution import FVD

    ident = scoring.metric_identity(FVD(), MetricContext(suite=ShapesSuite()))
    assert ident["networks"]["detector"] == load_detector("shapes-video").protocol()


def test_a_flagged_paired_latency_is_timed_again_on_a_rerun(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import vbench_lite.profile as profile_pkg
    from vbench_lite.cost import CostProfile
    from vbench_lite.pipeline.runner import cached_profile
    from vbench_lite.registries import METHODS
    from vbench_lite.suites.shapes import ShapesSuite

    flags = [True, False, False]  # the first timing flagged, the second stable

    def profiler(*args: object, **kwargs: object) -> CostProfile:
        unstable = flags.pop(0)
        return CostProfile(method="toy", speedup={"speedup": 2.0 if unstable else 1.5, "unstable": unstable})

    monkeypatch.setattr(profile_pkg, "profile_method", profiler)
    monkeypatch.setenv("VBENCH_LITE_CACHE", str(tmp_path / "cache"))  # no profile another test cached
    spec = RunSpec.for_method("toy", num_videos=4, metrics=("toy-mean",))
    adapter = METHODS.build("toy")
    adapter.load("cpu")
    items = ShapesSuite().items("eval", 4)
    first = cached_profile(adapter, spec, adapter.describe(), items, use_cache=True)
    second = cached_profile(adapter, spec, adapter.describe(), items, use_cache=True)
    third = cached_profile(adapter, spec, adapter.describe(), items, use_cache=True)
    assert first.speedup["unstable"] and second.speedup == {"speedup": 1.5, "unstable": False}
    assert third.speedup == second.speedup and flags == [False]  # the stable one was cached and served
