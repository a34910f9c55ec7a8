"""FVD on the shapes suite with the shipped shapes-video detector: real-vs-real lies below every
corruption, and FVD grows monotonically with the strength of a spatial (Gaussian blur) and a
temporal (frozen frames; local frame shuffling) corruption of one side.

Shuffling within windows of 2 frames (one-frame jitter) is not registered by the shipped detector; that
case is kept below as a strict xfail so the limitation stays visible and flips when a detector sees it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.transforms.functional import gaussian_blur

from vbench_lite.metrics.detectors.shapes_video import WEIGHTS_FILE, assets_dir
from vbench_lite.metrics.frechet import frechet_distance_from_features

pytestmark = pytest.mark.skipif(
    not (assets_dir() / WEIGHTS_FILE).is_file(),
    reason=f"shapes-video weights vbench_lite/assets/{WEIGHTS_FILE} not trained yet "
    "(python -m vbench_lite train --detector shapes-video)",
)
N = 256


@pytest.fixture(scope="module")
def setup():
    from vbench_lite.metrics.detectors import load_detector
    from vbench_lite.suites.shapes import ShapesSuite

    suite, det = ShapesSuite(), load_detector("shapes-video")
    a = suite.render(suite.items("validation", N))  # real set A
    b = suite.render(suite.items("eval", N))  # disjoint real set B, corrupted below
    fa = det.features(a).numpy()
    floor = frechet_distance_from_features(fa, det.features(b).numpy())
    return det, fa, b, floor


def _fvd(setup, corrupted: torch.Tensor) -> float:
    det, fa, _, _ = setup
    return frechet_distance_from_features(fa, det.features(corrupted).numpy())


def _blur(v: torch.Tensor, sigma: float) -> torch.Tensor:
    flat = v.flatten(0, 1).float()
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return gaussian_blur(flat, [k, k], [sigma, sigma]).round().clamp(0, 255).to(torch.uint8).view_as(v)


def _freeze(v: torch.Tensor, keep: int) -> torch.Tensor:
    out = v.clone()
    out[:, keep:] = v[:, keep - 1 : keep]
    return out


def _shuffle(v: torch.Tensor, window: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    idx = torch.cat([w + torch.randperm(window, generator=g) for w in range(0, v.shape[1], window)])
    return v[:, idx]


def _assert_monotone(setup, values: list[float]) -> None:
    floor = setup[3]
    assert floor < values[0], f"real-vs-real FVD {floor:.3f} is not below the weakest corruption {values}"
    assert all(x < y for x, y in zip(values, values[1:])), f"FVD not monotone in strength: {values}"


def test_fvd_grows_with_gaussian_blur(setup):
    _assert_monotone(setup, [_fvd(setup, _blur(setup[2], s)) for s in (1.2, 2.4, 3.6)])


def test_fvd_grows_with_frozen_frames(setup):
    _assert_monotone(setup, [_fvd(setup, _freeze(setup[2], keep)) for keep in (12, 8, 4)])


def test_fvd_grows_with_frame_shuffling(setup):
    _assert_monotone(setup, [_fvd(setup, _shuffle(setup[2], w)) for w in (4, 8, 16)])


@pytest.mark.xfail(
    strict=True,
    reason="known limitation of the 2000-step shapes-video detector: one-frame jitter (adjacent frames "
    "swapped, window 2) gives FVD 51.4 against the real-vs-real 51.9, because none of its training "
    "targets (shape, colour, direction, speed, background, relation) depends on frame-level smoothness",
)
def test_fvd_registers_one_frame_jitter(setup):
    _assert_monotone(setup, [_fvd(setup, _shuffle(setup[2], 2))])
