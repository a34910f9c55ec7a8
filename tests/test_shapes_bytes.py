"""The shapes renderer gives the same bytes on every machine (issue 18).

The SHA-256 of the first 64 videos of each split at each supported resolution is pinned here. The
renderer is integer arithmetic (see ``vbench_lite/suites/shapes/render.py``), so these constants hold
on any CPU (Intel or AMD, any SIMD width, any thread count) and on CUDA; a machine that renders
differently fails this test, which names the split and resolution.
"""

from __future__ import annotations

import hashlib
import math

import pytest
import torch

from vbench_lite.suites.shapes import ShapesSuite, render_attributes
from vbench_lite.suites.shapes import render as render_mod

SUITE = ShapesSuite()

# sha256(render(items(split, 64), resolution).numpy().tobytes()), uint8 [64, 16, 3, res, res]
PINNED_SHA256 = {
    ("reference", 24): "f98ab881aafb7069e9bbe1404cb0b1ae776de3babb2a1d7edb884d8c515437ce",
    ("reference", 32): "f26cf098f4d3a016f8a4cbe50a04293882b9c677da6a6fc54184518559db0814",
    ("reference", 48): "83125f338144ec224e48aae1f0ef181b2bd6d671f7c805aa4183e729df0cbf21",
    ("reference", 64): "a7b55fb43aea274192e6f30b9ac1aaaee9db83b1819fa5cf132f3fa230e3eefc",
    ("eval", 24): "c41ae07d282f64a471c309923fc8e90a51798a648bba9a1740811500a8c1a75c",
    ("eval", 32): "89dff50084f6ccd6290bdb9ad38c98ea6d154c8dee6235e2a18daef5124d49a0",
    ("eval", 48): "5d33b428b7104f25602ecff9f90431b71e537eb3ca5f5df9290095da07b14716",
    ("eval", 64): "187bb0989c37e2b710416642d48a5b63fcb04c50cd781baf52181dcbc358daeb",
    ("validation", 24): "b3ff25ceb738be82f7c24c273c313bf61d55788e019944b60d16047b54a3e621",
    ("validation", 32): "15c148e7c6092b8592b2b2ac39bd6ef0adfec99d217103664884fa4a0657a7a0",
    ("validation", 48): "60584f8eed71b59a7f7b89b34b88b624ae29ddbcf7693757bce222f2fe0a4932",
    ("validation", 64): "17f5d231d3d2d93322355865979e4c619d8411af921bd768f96d677039801a3c",
}


def _sha(video: torch.Tensor) -> str:
    return hashlib.sha256(video.cpu().contiguous().numpy().tobytes()).hexdigest()


@pytest.mark.parametrize("res", [24, 32, 48, 64])
def test_rendered_bytes_are_pinned(res: int) -> None:
    for split in ("reference", "eval", "validation"):
        video = SUITE.render(SUITE.items(split, 64), resolution=res)
        assert video.shape == (64, 16, 3, res, res) and video.dtype == torch.uint8
        assert _sha(video) == PINNED_SHA256[(split, res)], (
            f"the shapes renderer produced other bytes for the first 64 {split!r} videos at {res} px "
            "on this machine: the suite is not bit-identical here (see issue 18)"
        )


def test_thread_count_does_not_change_bytes() -> None:
    items = SUITE.items("reference", 16)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = SUITE.render(items, resolution=48)
        torch.set_num_threads(2)
        two = SUITE.render(items, resolution=48)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, two)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_renders_the_same_bytes() -> None:  # pragma: no cover - run where CUDA exists
    attrs = [dict(it.attributes) for it in SUITE.items("eval", 64)]
    for res in (24, 64):
        gpu = render_attributes(attrs, resolution=res, device="cuda")
        assert gpu.device.type == "cuda"
        assert _sha(gpu) == PINNED_SHA256[("eval", res)]


def test_integer_square_root_is_exact() -> None:
    # perfect squares, their neighbours and large values up to the int64 range used by the renderer
    ks = [0, 1, 2, 3, 1000, 2**20 - 1, 2**26 + 3, 2**31 - 1]
    values = sorted({max(0, k * k + d) for k in ks for d in (-1, 0, 1)} | {2**62 - 1, 2**53 + 1})
    n = torch.tensor(values, dtype=torch.int64)
    assert render_mod._isqrt(n).tolist() == [math.isqrt(v) for v in values]
    # round(sqrt(x^2 + y^2)) against exact integer arithmetic
    x = torch.tensor([3, 5, 2**25, -7, 0, 1], dtype=torch.int64)
    y = torch.tensor([4, 5, 2**25 - 1, 2, 0, 1], dtype=torch.int64)
    expected = []
    for a, b in zip(x.tolist(), y.tolist()):
        m = a * a + b * b
        s = math.isqrt(m)
        expected.append(s + (m - s * s > s))
    assert render_mod._norm(x, y).tolist() == expected


def test_resolution_bounds() -> None:
    attrs = [dict(SUITE.items("eval", 1)[0].attributes)]
    with pytest.raises(ValueError, match="between 8 and 1024"):
        render_attributes(attrs, resolution=4)
    with pytest.raises(ValueError, match="between 8 and 1024"):
        render_attributes(attrs, resolution=2048)
