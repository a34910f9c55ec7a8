"""A metric's protocol is what was asked for: the same spec cold and warm records the same one (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vbench_lite.metrics.distribution import FVDConfig, KVDConfig
from vbench_lite.metrics.vbench import metric as vbench_metric
from vbench_lite.pipeline import run
from vbench_lite.registries import METRICS
from vbench_lite.spec import ProfileOptions, RunSpec


def test_same_spec_cold_and_warm_gives_equal_protocols(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VBENCH_LITE_CACHE", str(tmp_path / "cache"))  # truly cold
    configs = {"fvd": FVDConfig(reference_num=48, bootstrap=4), "kvd": KVDConfig(reference_num=48, subsets=4)}
    spec = RunSpec.for_method("toy", split="validation", num_videos=4, profile=ProfileOptions(enabled=False),
                              metric_configs=configs)
    calls = {"n": 0}
    original = vbench_metric.VBenchLite.per_video

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(vbench_metric.VBenchLite, "per_video", counting)
    vbench_metric._CACHE.clear()  # no network survives from another test: a fresh process
    cold = run(spec, progress=False).result
    assert calls["n"] > 0
    vbench_metric._CACHE.clear()  # a second process: nothing loaded but what aggregate loads
    warm = run(spec, progress=False).result
    assert calls["n"] == 1, "the warm run recomputed per-video scores: it is not a cache hit"

    # every registered metric ran (the default list) and produced results
    assert set(METRICS.names()) >= {"fvd", "kvd", "clipsim", "vbench", "fidelity"}
    assert set(cold.metrics) == set(warm.metrics) and "vbench_object_class" in cold.metrics
    for name in cold.metrics:
        c, w = cold.metrics[name], warm.metrics[name]
        assert (c.version, c.protocol) == (w.version, w.protocol), name
        assert c.fingerprint == w.fingerprint and c.value == w.value, name
    obj = warm.metrics["vbench_object_class"].protocol
    assert obj["detector"] == "shapes-video" and len(obj["weights_sha256"]) == 64
    # content hashes are fingerprints, never part of the identity
    for name in ("fvd", "kvd"):
        assert "reference_sha256" not in cold.metrics[name].protocol
        assert len(cold.metrics[name].fingerprint["reference_sha256"]) == 64
