"""Each registry checks its entries' base class; CLIP backbones are their own kind; the suite names
its default FVD detector and each detector its input size."""

from __future__ import annotations

import pytest

from vbench_lite.metrics.base import MetricContext
from vbench_lite.registries import ALL, CLIP_BACKBONES, DETECTORS, METRICS
from vbench_lite.registry import Registry


def test_registries_refuse_entries_of_another_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    for reg in (METRICS, DETECTORS, CLIP_BACKBONES):
        reg.names()
        monkeypatch.setattr(reg, "_entries", dict(reg._entries))
    with pytest.raises(TypeError, match="is not a subclass of Metric"):
        METRICS.register("not-a-metric", dict)
    with pytest.raises(TypeError, match="is not a subclass of FeatureDetector"):
        DETECTORS.register("not-a-detector", METRICS.get("fvd"))
    with pytest.raises(TypeError, match="is not a subclass of ClipModel"):
        CLIP_BACKBONES.register("not-a-clip", DETECTORS.get("i3d"))
    lazy = Registry("metric", "vbench_lite.metrics.base:Metric")
    lazy.register("broken-later", "vbench_lite.metrics.distribution:FVDConfig")  # checked when loaded
    with pytest.raises(TypeError, match="FVDConfig is not a subclass of Metric"):
        lazy.get("broken-later")


def test_clip_backbones_are_their_own_kind() -> None:
    from vbench_lite.metrics.clip_models import load_clip

    assert set(DETECTORS.names()) >= {"shapes-video", "i3d"}
    assert not {"shapes-clip", "vit-b-32"} & set(DETECTORS.names())
    assert {"shapes-clip", "vit-b-32"} <= set(CLIP_BACKBONES.names()) and ALL["clip-backbones"] is CLIP_BACKBONES
    assert load_clip("shapes-clip").name == "shapes-clip"
    with pytest.raises(ValueError, match="unknown clip backbone 'vit-b-16'"):
        load_clip("vit-b-16")


def test_the_suite_declares_its_detector_and_the_detector_its_input_size() -> None:
    from vbench_lite.metrics.detectors.i3d import I3DDetector
    from vbench_lite.metrics.detectors.shapes_video import ShapesVideoDetector
    from vbench_lite.metrics.distribution import FVD, FVDConfig
    from vbench_lite.suites.base import Suite
    from vbench_lite.suites.shapes import ShapesSuite

    assert ShapesSuite.default_detector == "shapes-video" and Suite.default_detector == "i3d"
    assert FVD().detector_name(MetricContext(suite=ShapesSuite())) == "shapes-video"
    assert FVD().detector_name(MetricContext()) == "i3d"  # no suite: the field's standard
    assert FVD(FVDConfig(detector="i3d")).detector_name(MetricContext(suite=ShapesSuite())) == "i3d"
    assert (ShapesVideoDetector.input_size, I3DDetector.input_size) == (32, 224)
    assert FVD._input_size(ShapesVideoDetector.load()) == 32
