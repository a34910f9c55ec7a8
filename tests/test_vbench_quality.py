"""VBench quality dimensions on hand-built videos with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vbench_lite.metrics.clip_models import ClipBackbone, build_shapes_clip
from vbench_lite.metrics.flow import FarnebackFlow, farneback
from vbench_lite.metrics.vbench import (
    background_consistency,
    consistency_from_features,
    dynamic_degree,
    measure_objects,
    motion_smoothness,
    subject_consistency,
    temporal_flickering,
)
from vbench_lite.metrics.vbench.backbones import ClipFrameFeatures
from vbench_lite.metrics.vbench.quality import is_dynamic


def square_video(speed: float, frames: int = 16, size: int = 32, side: int = 8) -> torch.Tensor:
    """A red square on black moving right at ``speed`` px/frame (anti-aliased by box coverage)."""
    xs = torch.arange(size, dtype=torch.float64)
    out = torch.zeros(frames, 3, size, size)
    for t in range(frames):
        x0 = 4.0 + speed * t
        cov = (torch.clamp(xs + 1 - x0, 0, 1) - torch.clamp(xs - x0 - side, 0, 1)).clamp(0, 1)
        col = cov.view(1, size)
        row = ((xs >= 12) & (xs < 12 + side)).double().view(size, 1)
        out[t, 0] = 220 * row * col
    return out.round().to(torch.uint8)


@pytest.fixture(scope="module")
def random_clip() -> ClipBackbone:
    torch.manual_seed(0)
    return ClipBackbone(name="shapes-clip", model=build_shapes_clip(), image_size=32, context_length=32,
                        weights_sha256="random")


def test_static_video(random_clip: ClipBackbone) -> None:
    frame = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8)
    video = frame.repeat(16, 1, 1, 1)
    assert temporal_flickering(video) == 1.0
    assert motion_smoothness(video) == 1.0
    assert dynamic_degree(video) == 0.0
    for region in ("object", "background", "full"):
        feats = ClipFrameFeatures(random_clip, region)
        assert subject_consistency(video, feats) == pytest.approx(1.0, abs=1e-6)
        assert background_consistency(video, feats) == pytest.approx(1.0, abs=1e-6)


def test_alternating_two_frames_flickering_by_hand() -> None:
    a = torch.full((3, 8, 8), 30, dtype=torch.uint8)
    b = a.clone()
    b[0] = 130  # one channel of three differs by 100: mean |F_{i+1} - F_i| = 100 / 3
    video = torch.stack([a, b] * 4)
    assert temporal_flickering(video) == pytest.approx((255 - 100 / 3) / 255, abs=1e-12)


def test_noise_has_low_flickering() -> None:
    g = torch.Generator().manual_seed(0)
    video = torch.randint(0, 256, (16, 3, 32, 32), generator=g, dtype=torch.uint8)
    # E|X - Y| for independent uniform bytes is ~85.3, so about (255 - 85.3) / 255 = 0.665
    assert temporal_flickering(video) == pytest.approx(0.665, abs=0.01)
    assert motion_smoothness(video) < 0.8


def test_consistency_formula_by_hand() -> None:
    f = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # i=1: (max(0, 0) + max(0, 0)) / 2 = 0; i=2: (0 + 1) / 2 = 0.5; mean 0.25
    assert consistency_from_features(f) == pytest.approx(0.25)
    assert consistency_from_features(torch.tensor([[1.0, 0.0], [-1.0, 0.0]])) == 0.0  # clipped at 0


def test_translating_square() -> None:
    fast = square_video(2.0)
    assert motion_smoothness(fast) > 0.99
    assert dynamic_degree(fast) == 1.0  # 2 px/frame > 6 * 32 / 256 = 0.75 px
    assert measure_objects(fast).direction == "right"
    slow = square_video(0.25)
    assert dynamic_degree(slow) == 0.0
    assert motion_smoothness(slow) > 0.99
    flow = farneback(fast[4], fast[5])
    assert float(np.median(flow[12:20, 8:20, 0])) == pytest.approx(2.0, abs=0.35)


def test_dynamic_degree_rule_follows_vbench() -> None:
    # count_num = round(4 * 16 / 16) = 4; VBench's check_move counts every pair, the last ones too
    # (the [:-2] of vbench/cli/static_filter.py drops pairs that script appends, not clip frames)
    scores = np.array([0.0] * 11 + [1.0, 1.0, 1.0, 1.0])
    assert is_dynamic(scores, num_frames=16, height=32, width=32)
    scores[-1] = 0.0
    assert not is_dynamic(scores, num_frames=16, height=32, width=32)
    # 2 frames: count_num = round(0.5) = 0 (half to even), one pair: VBench returns True after it
    assert is_dynamic(np.array([0.0]), num_frames=2, height=32, width=32)
    assert not is_dynamic(np.array([]), num_frames=1, height=32, width=32)  # empty loop: not dynamic


class _ScriptedFlow:
    """Flow whose top-5% magnitude for the pair starting at frame k is ``mags[k]`` (frame k's
    first pixel holds k); records which pairs were asked for."""

    def __init__(self, mags: list[float]) -> None:
        self.mags, self.asked = mags, []

    def __call__(self, f0: torch.Tensor, f1: torch.Tensor) -> torch.Tensor:
        ks = [int(k) for k in f0[:, 0, 0, 0]]
        self.asked += ks
        out = torch.zeros(len(ks), 2, *f0.shape[-2:])
        for i, k in enumerate(ks):
            out[i, 0] = self.mags[k]
        return out


@pytest.mark.parametrize("frames", [2, 3, 8, 16, 17, 33])
def test_dynamic_degree_stops_once_settled_with_the_verdict_of_every_pair(frames: int) -> None:
    rng = np.random.default_rng(frames)
    video = torch.zeros(frames, 3, 32, 32, dtype=torch.uint8)
    video[:, 0, 0, 0] = torch.arange(frames, dtype=torch.uint8)
    thres = 6.0 * 32 / 256.0
    for trial in range(60):
        over = rng.random(frames - 1) < rng.choice([0.0, 0.1, 0.3, 0.6, 1.0])
        mags = [thres * (2.0 if o else 0.5) for o in over]
        flow = _ScriptedFlow(mags)
        got = dynamic_degree(video, flow)
        assert got == float(is_dynamic(np.array(mags), num_frames=frames, height=32, width=32)), trial
        assert flow.asked == list(range(len(flow.asked)))  # pairs in order, none twice
        if over.all() and frames >= 16:
            assert len(flow.asked) == round(4 * frames / 16)  # a clip moving from the start: count_num pairs


def test_dynamic_degree_counts_motion_in_the_last_pairs() -> None:
    still = square_video(0.0, frames=11)
    moving = square_video(2.0, frames=6)
    video = torch.cat([still, moving[1:]])  # still until frame 10, then 2 px/frame: 5 moving pairs
    assert video.shape[0] == 16 and dynamic_degree(video) == 1.0
    # 16 frames at 48 fps: every 6th frame, 3 frames, 2 pairs, count_num = round(0.75) = 1
    fast = square_video(0.5, frames=16)  # 3 px between sampled frames > 0.75 px
    assert dynamic_degree(fast, fps=48.0) == 1.0


def test_dynamic_degree_samples_8fps() -> None:
    video = square_video(0.5, frames=32)  # 0.5 px/frame at 16 fps = 1 px per 8-fps pair
    assert dynamic_degree(video, fps=16.0) == 1.0
    assert dynamic_degree(video, fps=8.0) == 0.0


def test_farneback_flow_batch_shape() -> None:
    video = square_video(1.0, frames=3)
    out = FarnebackFlow()(video[:-1], video[1:])
    assert out.shape == (2, 2, 32, 32) and out.dtype == torch.float32


@pytest.mark.parametrize(
    ("fn", "frames", "needs"),
    [(motion_smoothness, 2, 3), (temporal_flickering, 1, 2), (dynamic_degree, 1, 2)],
)
def test_too_short_video_names_the_dimension(fn, frames: int, needs: int) -> None:
    video = torch.zeros(frames, 3, 16, 16, dtype=torch.uint8)
    with pytest.raises(ValueError, match=rf"{fn.__name__} needs at least {needs} frames"):
        fn(video)


def test_bad_dtype_is_rejected() -> None:
    with pytest.raises(ValueError, match="uint8"):
        temporal_flickering(torch.zeros(4, 3, 8, 8))
