"""The harness metric ``vbench`` with the embedded backbones (shipped shapes-clip, Farneback)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from vbench_lite.fsutil import sha256_file
from vbench_lite.metrics.base import MetricContext
from vbench_lite.metrics.clip_models import SHAPES_CLIP_WEIGHTS
from vbench_lite.metrics.vbench import aggregate as agg
from vbench_lite.metrics.vbench import background_consistency, subject_consistency
from vbench_lite.metrics.vbench.metric import VBenchConfig, VBenchLite, backbones_for
from vbench_lite.suites.shapes import ShapesSuite, render_attributes

NO_DETECTOR = VBenchConfig(dimensions=tuple(d for d in agg.DIMENSIONS if d != "object_class"))


@pytest.fixture(scope="module")
def reference():
    suite = ShapesSuite()
    items = suite.items("reference", 8)
    return suite, items, suite.render(items)


def test_per_video_and_aggregate(reference) -> None:
    suite, items, videos = reference
    metric, ctx = VBenchLite(NO_DETECTOR), MetricContext(suite=suite)
    per = metric.per_video(videos, items, ctx)
    assert set(per) == set(NO_DETECTOR.dimensions)
    assert all(a.shape == (8,) for a in per.values())
    assert per["temporal_flickering"].min() > 0.9 and per["motion_smoothness"].min() > 0.95
    for d in ("color", "motion_direction"):
        assert per[d].mean() == 1.0
    halves = [metric.per_video(videos[i : i + 4], items[i : i + 4], ctx) for i in (0, 4)]
    for d, a in per.items():
        np.testing.assert_allclose(a, np.concatenate([h[d] for h in halves]), atol=1e-6, equal_nan=True)
    results = {r.name: r for r in metric.aggregate(per, items, ctx)}
    q, s, t = (results[f"vbench_{p}"].value for p in ("quality", "semantic", "total"))
    assert t == pytest.approx((4 * q + s) / 5)
    proto = results["vbench_total"].protocol
    assert proto["suite"] == "VBench-lite"
    assert "not VBench's 16-dimension Total" in proto["note"] and "motion_direction" in proto["dimensions"]
    assert proto["backbones"]["subject_consistency"] == "shapes-clip:object"
    assert proto["constants"]["temporal_flickering"]["min"] == 0.6293  # VBench's, no backbone
    assert "calibrated" in proto["constants"]["subject_consistency"]["source"]
    assert results["vbench_subject_consistency"].protocol["weights_sha256"] == sha256_file(SHAPES_CLIP_WEIGHTS)


def test_calibrated_constants_match_shipped_weights() -> None:
    cal = agg.load_calibrated()
    sha = sha256_file(SHAPES_CLIP_WEIGHTS)
    for d in ("subject_consistency", "background_consistency", "overall_consistency"):
        c = cal["dimensions"][d]
        assert c["weights_sha256"] == sha and c["min"] < c["max"]


def _two_part_video(change: str) -> torch.Tensor:
    """One object video whose object colour or background changes halfway."""
    base = ShapesSuite().items("reference", 1)[0].attributes
    a = dict(base, objects=[dict(base["objects"][0])], num_objects=1, relation="none")
    other = dict(a)
    if change == "object":
        colour = "green" if a["objects"][0]["color"] != "green" else "red"
        other["objects"] = [dict(a["objects"][0], color=colour)]
    else:
        other["background"] = "white" if a["background"] != "white" else "black"
    first = render_attributes([a])[0, :8]
    second = render_attributes([other])[0, 8:]
    return torch.cat([first, second])


def test_subject_and_background_measure_different_things() -> None:
    bb = backbones_for(VBenchConfig(), "cpu")
    obj = _two_part_video("object")
    bg = _two_part_video("background")
    # the object changes: subject consistency drops, background (objects painted out) does not
    assert subject_consistency(obj, bb.subject) < background_consistency(obj, bb.background) - 0.02
    assert background_consistency(obj, bb.background) > 0.99
    # the background changes: background consistency drops below subject consistency
    assert background_consistency(bg, bb.background) < subject_consistency(bg, bb.subject)


def test_videos_without_attributes_get_quality_and_overall_consistency_only(reference) -> None:
    suite, items, videos = reference
    bare = [dataclasses.replace(it, attributes={}) for it in items]
    metric, ctx = VBenchLite(NO_DETECTOR), MetricContext()
    per = metric.per_video(videos[:2], bare[:2], ctx)
    assert np.isnan(per["color"]).all() and np.isfinite(per["overall_consistency"]).all()
    results = {r.name: r for r in metric.aggregate(per, bare[:2], ctx)}
    assert "vbench_color" not in results
    assert results["vbench_semantic"].protocol["dimensions"] == ["overall_consistency"]
    assert any("color" in w for w in results["vbench_total"].warnings)


def test_short_video_is_an_error_naming_the_dimension(reference) -> None:
    _, items, videos = reference
    with pytest.raises(ValueError, match="motion_smoothness needs at least 3 frames"):
        VBenchLite(NO_DETECTOR).per_video(videos[:1, :2], items[:1], MetricContext())


def test_unknown_protocol_and_dimension_are_errors(reference) -> None:
    _, items, videos = reference
    with pytest.raises(ValueError, match="unknown vbench_protocol"):
        VBenchConfig(protocol="vbench2")
    with pytest.raises(ValueError, match="unknown vbench dimension"):
        VBenchLite(VBenchConfig(dimensions=("aesthetic",))).per_video(videos[:1], items[:1], MetricContext())


def test_real_protocol_needs_local_weights() -> None:
    with pytest.raises(FileNotFoundError, match="--dino-weights"):
        backbones_for(VBenchConfig(protocol="real"))


def test_object_class_protocol_names_the_detector_when_scores_come_from_the_cache() -> None:
    from vbench_lite.metrics.detectors.shapes_video import ShapesVideoDetector

    # settings of their own: backbones whose detector was never loaded, as after a cache hit
    ctx = MetricContext()
    (r, *_) = VBenchLite(VBenchConfig(dimensions=("object_class",), fps=8.5)).aggregate({"object_class": np.array([1.0, 0.0])}, [None, None], ctx)
    assert r.name == "vbench_object_class"
    assert r.protocol["weights_sha256"] == ShapesVideoDetector.load().weights_sha256
