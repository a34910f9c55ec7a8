"""Issue 22: where vbench_lite departed from the reference implementations, each pinned by a case
that the old code got wrong (VBench 0.1.5, StyleGAN-V, torchmetrics CLIPScore)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms as T

from vbench_lite import video as V
from vbench_lite.metrics.base import MetricContext
from vbench_lite.metrics.clip_models import ClipBackbone, build_shapes_clip, clip_preprocess
from vbench_lite.metrics.clipsim import CLIPSIM, CLIPScore
from vbench_lite.metrics.frechet import frechet_distance, gaussian_statistics
from vbench_lite.metrics.vbench import aggregate as agg
from vbench_lite.metrics.vbench.backbones import ClipFrameFeatures, dino_interpolate_pos_encoding


def test_middle_frame_sampling_is_vbenchs_get_frame_indices() -> None:
    # VBench utils.get_frame_indices(sample="middle"): integer edges, (a + b - 1) // 2, last-frame padding
    assert V.frame_indices(16, 8, "middle") == [0, 2, 4, 6, 8, 10, 12, 14]
    assert V.frame_indices(10, 4, "middle") == [0, 3, 5, 8]  # edges int(linspace(0, 10, 5)) = 0 2 5 7 10
    assert V.frame_indices(3, 5, "middle") == [0, 1, 2, 2, 2]  # padded with the last frame
    assert V.frame_indices(1, 1, "middle") == [0]


def test_real_protocol_constants_are_vbenchs_not_the_shapes_calibration() -> None:
    # an empty dict means "no calibrated constants" (the real protocol), never "load the shipped file"
    c = agg.constant_for("motion_smoothness", "farneback", {})
    assert (c.min, c.max) == (0.706, 0.9975) and "applied to farneback" in c.source
    assert c.normalise(0.98) == pytest.approx((0.98 - 0.706) / (0.9975 - 0.706))
    shipped = agg.constant_for("motion_smoothness", "farneback")  # embedded: the calibrated ones
    assert "calibrated" in shipped.source


def test_background_backbone_id_matches_vbenchs_constants() -> None:
    clip = ClipBackbone(name="vit-b-32", model=build_shapes_clip(), image_size=32, context_length=32,
                        weights_sha256="random")
    name = ClipFrameFeatures(clip, "full").name
    c = agg.constant_for("background_consistency", name, {})
    assert (c.min, c.max) == (0.2615, 1.0) and c.source == agg.VBENCH_SOURCE  # not "applied to"


def _texture(n: int = 2, h: int = 72, w: int = 96) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 3, h, w), generator=g, dtype=torch.uint8)


def test_background_consistency_preprocessing_is_vbenchs_clip_transform() -> None:
    frames = _texture()
    # VBench utils.clip_transform on the float frames its load_video returns
    vbench = T.Compose([T.Resize(32, interpolation=T.InterpolationMode.BICUBIC, antialias=False),
                        T.CenterCrop(32), T.Lambda(lambda x: x.float().div(255.0)),
                        T.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))])
    ours = clip_preprocess(frames, 32, "vbench")
    torch.testing.assert_close(ours, vbench(frames.float()), atol=1e-6, rtol=0)
    # CLIPSIM keeps open_clip's PIL-like antialiased resize: on texture the two differ
    assert (clip_preprocess(frames, 32) - ours).abs().max() > 0.1
    clip = ClipBackbone(name="shapes-clip", model=build_shapes_clip(), image_size=32, context_length=32,
                        weights_sha256="random")
    feats = ClipFrameFeatures(clip, "full")
    torch.testing.assert_close(feats(frames), clip.encode_images(frames, style="vbench"))
    assert "no antialias" in feats.protocol()["preprocessing"]
    with pytest.raises(ValueError, match="unknown CLIP preprocessing"):
        clip_preprocess(frames, 32, "pil")


def test_dino_position_embeddings_follow_dinos_interpolate_pos_encoding() -> None:
    g = torch.Generator().manual_seed(0)
    pos = torch.randn(1, 1 + 14 * 14, 8, generator=g)
    assert dino_interpolate_pos_encoding(pos, 14, 14) is pos  # native grid: unchanged
    out = dino_interpolate_pos_encoding(pos, 14, 19)
    assert out.shape == (1, 1 + 14 * 19, 8) and torch.equal(out[:, :1], pos[:, :1])
    # DINO samples at the +0.1 scale factor, not at the exact 14 -> 19 ratio (timm / align_corners=False)
    grid = pos[:, 1:].reshape(1, 14, 14, 8).permute(0, 3, 1, 2)
    exact = torch.nn.functional.interpolate(grid, size=(14, 19), mode="bicubic")
    assert not torch.allclose(out[:, 1:], exact.permute(0, 2, 3, 1).reshape(1, -1, 8))


class _Det:
    """A stand-in detector object: only the covariance convention matters here."""

    def __init__(self, covariance: str) -> None:
        self.covariance = covariance


def test_i3d_protocol_defaults_to_stylegan_v_covariance() -> None:
    from vbench_lite.metrics.detectors.i3d import I3DDetector
    from vbench_lite.metrics.detectors.shapes_video import ShapesVideoDetector
    from vbench_lite.metrics.distribution import FrechetVideoDistance

    assert I3DDetector.covariance == "stylegan-v" and ShapesVideoDetector.covariance == "unbiased"
    assert FrechetVideoDistance(_Det("stylegan-v")).covariance == "stylegan-v"
    assert FrechetVideoDistance(_Det("stylegan-v"), covariance="unbiased").covariance == "unbiased"
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(128, 4)), rng.normal(0.2, 1.1, size=(128, 4))
    n, n1 = (frechet_distance(*gaussian_statistics(a, c), *gaussian_statistics(b, c))
             for c in ("stylegan-v", "unbiased"))
    assert n != pytest.approx(n1, rel=1e-4)  # the two conventions are distinguishable at N = 128


def test_clipscore_is_torchmetrics_convention_under_its_own_name() -> None:
    metric, ctx = CLIPScore(), MetricContext()
    assert metric.name == "clipscore" != CLIPSIM.name
    per = {"clipscore": np.array([30.0, 20.0, -60.0])}
    (r,) = metric.aggregate(per, [None] * 3, ctx)
    assert r.value == 0.0 and r.details["unclamped_mean"] == pytest.approx(-10 / 3)  # clamp after the mean
    (r,) = metric.aggregate({"clipscore": np.array([30.0, 20.0])}, [None] * 2, ctx)
    assert r.value == pytest.approx(25.0) and "100 x cosine" in r.protocol["score"]
