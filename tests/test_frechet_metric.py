"""FVD/KVD harness metrics, torchmetrics-style accumulators and the reference-statistics cache,
with a randomly initialised shapes-video network saved and loaded through the real loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from vbench_lite.metrics.base import MetricContext
from vbench_lite.metrics.detectors import load_detector
from vbench_lite.metrics.detectors.shapes_video import ShapesVideoNet
from vbench_lite.metrics.distribution import (
    FVD,
    KVD,
    FrechetVideoDistance,
    FVDConfig,
    KernelVideoDistance,
    KVDConfig,
)
from vbench_lite.metrics.reference_stats import load_cached, suite_reference_stats
from vbench_lite.registries import METRICS
from vbench_lite.suites.shapes import ShapesSuite


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> str:
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("w") / "shapes_video.safetensors"
    save_file(ShapesVideoNet().state_dict(), str(path))
    return str(path)


@pytest.fixture(scope="module")
def data():
    suite = ShapesSuite()
    real = suite.render(suite.items("validation", 48))
    fake = suite.render(suite.items("eval", 48))
    return real, torch.flip(fake, dims=[-1])  # mirrored eval videos: a different distribution


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VBENCH_LITE_CACHE", str(tmp_path / "cache"))


def test_accumulators_ignore_batch_size_and_order(weights, data):
    real, fake = data
    det = load_detector("shapes-video", weights=weights)
    results = []
    for batch, order in ((48, False), (7, False), (5, True)):
        fvd, kvd = FrechetVideoDistance(det), KernelVideoDistance(det, subsets=5, subset_size=20)
        idx = torch.randperm(48, generator=torch.Generator().manual_seed(3)) if order else torch.arange(48)
        for i in range(0, 48, batch):
            for m in (fvd, kvd):
                m.update(fake[idx[i : i + batch]], real=False)
                m.update(real[idx[i : i + batch]], real=True)
        results.append((fvd.compute(), kvd.compute()))
    assert results[0] == results[1] == results[2]  # every digit
    assert results[0][0] > 0
    fvd.reset()
    with pytest.raises(ValueError, match="no real videos"):
        fvd.compute()


def _ctx(weights):
    return MetricContext(suite=ShapesSuite())


def _fvd(weights, **settings):
    return FVD(FVDConfig(detector_weights=weights, reference_num=40, bootstrap=10, **settings))


def test_harness_fvd_and_kvd(weights, data):
    _, fake = data
    ctx = _ctx(weights)
    fvd = METRICS.build("fvd", config=FVDConfig(detector_weights=weights, reference_num=40, bootstrap=10))
    kvd = METRICS.build("kvd", config=KVDConfig(detector_weights=weights, reference_num=40))
    assert isinstance(fvd, FVD) and isinstance(kvd, KVD)
    whole = fvd.per_video(fake, [], ctx)
    chunks = [fvd.per_video(fake[i : i + 10], [], ctx)["features"] for i in range(0, 48, 10)]
    assert whole["features"].shape == (48, 128)
    assert np.array_equal(np.concatenate(chunks), whole["features"])
    (res,) = fvd.aggregate(whole, [], ctx)
    (res2,) = fvd.aggregate({"features": np.concatenate(chunks)}, [], ctx)
    assert res.value == res2.value and res.std == res2.std and res.value > 0
    p = res.protocol
    assert p["detector"] == "shapes-video" and len(p["weights_sha256"]) == 64
    assert p["num_generated"] == 48 and p["num_reference"] == 40 and p["covariance"] == "unbiased"
    assert p["frames"] == 16 and p["resolution"]["detector_input"] == 32 and p["preprocessing"]
    # what was obtained is a fingerprint, never part of the protocol (issue 18)
    assert "reference_sha256" not in p and p["reference_source"]["split"] == "reference"
    assert len(res.fingerprint["reference_sha256"]) == 64 and len(res.fingerprint["reference_features_sha256"]) == 64
    assert res.details["bootstrap_resamples"] == 10 and res.std > 0
    assert any("rank deficient" in w for w in res.warnings)  # 48 samples < 128 dims
    (k,) = kvd.aggregate(whole, [], ctx)
    assert k.name == "kvd" and k.value is not None and k.std is not None
    assert k.protocol["subset_size"] == 40
    stylegan = _fvd(weights, covariance="stylegan-v").aggregate(whole, [], ctx)[0]
    assert stylegan.protocol["covariance"] == "stylegan-v" and stylegan.value != res.value


def test_harness_rejects_nan_and_mismatched_features(weights):
    ctx = _ctx(weights)
    feats = np.random.default_rng(0).standard_normal((10, 128)).astype(np.float32)
    feats[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _fvd(weights).aggregate({"features": feats}, [], ctx)
    with pytest.raises(ValueError, match="feature dimensions differ"):
        _fvd(weights).aggregate({"features": np.zeros((10, 64), np.float32) + np.arange(10)[:, None]}, [], ctx)


def test_reference_stats_cache_is_keyed_by_protocol(weights):
    suite, det = ShapesSuite(), load_detector("shapes-video", weights=weights)
    first = suite_reference_stats(suite, det, num=24)
    assert first.path is not None and first.path.is_file()
    again = suite_reference_stats(suite, det, num=24)
    assert again.path == first.path and np.array_equal(again.sigma, first.sigma)
    assert again.protocol["content_sha256"] == first.protocol["content_sha256"]
    other = suite_reference_stats(suite, det, num=24, covariance="stylegan-v")
    assert other.path != first.path
    np.testing.assert_allclose(other.sigma, first.sigma * 23 / 24, rtol=1e-10)
    # A file whose stored protocol differs (e.g. another weights hash) is never served.
    stale = dict(first.protocol)
    stale.pop("content_sha256")
    stale["detector"] = {**stale["detector"], "weights_sha256": "0" * 64}
    assert load_cached(stale) is None
    with open(first.path, "r+b") as f:  # corrupt the cached file: it is recomputed, not used
        f.write(b"garbage")
    fresh = suite_reference_stats(suite, det, num=24)
    assert np.array_equal(fresh.features, first.features)
