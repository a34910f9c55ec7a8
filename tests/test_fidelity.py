"""Fidelity to the baseline: PSNR / SSIM per frame, infinite PSNR for identical videos, LPIPS."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vbench_lite.metrics.base import MetricContext
from vbench_lite.metrics.fidelity import Fidelity, load_lpips, lpips_per_frame, psnr_per_frame, ssim_per_frame
from vbench_lite.results import MetricResult
from vbench_lite.suites.base import VideoItem


def _videos(n: int = 3, seed: int = 0, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(20, 230, (n, 4, 3, size, size), generator=g, dtype=torch.uint8)


def test_psnr_by_hand() -> None:
    base = _videos()
    shifted = base + 10  # every pixel off by 10: MSE = 100
    psnr = psnr_per_frame(shifted, base)
    assert psnr.shape == (3, 4)
    assert torch.allclose(psnr, torch.full_like(psnr, 10 * math.log10(255**2 / 100)), atol=1e-9)


def test_identical_videos_give_infinite_psnr_and_unit_ssim() -> None:
    v = _videos()
    assert torch.isinf(psnr_per_frame(v, v)).all()
    assert torch.allclose(ssim_per_frame(v, v), torch.ones(3, 4, dtype=torch.float64))


def _items(n: int) -> list[VideoItem]:
    return [VideoItem(index=i, prompt=f"p{i}", seed=i) for i in range(n)]


def test_metric_reports_infinity_for_identical_videos() -> None:
    v = _videos()
    ctx = MetricContext(reference_method="baseline", reference_method_videos=lambda items: v[[it.index for it in items]])
    metric = Fidelity()
    items = _items(3)
    per = metric.per_video(v, items, ctx)
    assert np.isinf(per["fidelity_psnr"]).all()
    results = {r.name: r for r in metric.aggregate(per, items, ctx)}
    psnr = results["fidelity_psnr"]
    assert psnr.value == math.inf and psnr.to_dict()["value"] == "inf"
    assert MetricResult.from_dict(psnr.to_dict()).value == math.inf
    assert results["fidelity_ssim"].value == pytest.approx(1.0)


def test_metric_is_batch_independent() -> None:
    v, base = _videos(4, seed=1), _videos(4, seed=2)
    ctx = MetricContext(reference_method="baseline", reference_method_videos=lambda items: base[[it.index for it in items]])
    items = _items(4)
    whole = Fidelity().per_video(v, items, ctx)
    halves = [Fidelity().per_video(v[i : i + 2], items[i : i + 2], ctx) for i in (0, 2)]
    for k in whole:
        np.testing.assert_array_equal(whole[k], np.concatenate([h[k] for h in halves]))


def test_shape_mismatch_and_missing_baseline_are_errors() -> None:
    with pytest.raises(ValueError, match="same shape"):
        psnr_per_frame(_videos(), _videos()[:, :2])
    with pytest.raises(ValueError, match="needs the reference method"):
        Fidelity().per_video(_videos(), _items(3), MetricContext())


def test_lpips_from_local_random_weights(tmp_path) -> None:
    from torchmetrics.functional.image.lpips import _LPIPS

    torch.manual_seed(0)
    net = _LPIPS(pretrained=False, net="alex", pnet_rand=True)
    path = tmp_path / "lpips_alex.pt"
    torch.save(net.state_dict(), path)
    loaded = load_lpips(path)
    v = _videos(2, size=64)  # AlexNet's pooling needs more than 32 px
    assert torch.allclose(lpips_per_frame(v, v, loaded), torch.zeros(2, 4), atol=1e-6)
    other = _videos(2, seed=5, size=64)
    d = lpips_per_frame(v, other, loaded)
    assert (d > 0).all()
    with torch.no_grad():
        ref = net.eval()(v.reshape(8, 3, 64, 64).float() / 127.5 - 1, other.reshape(8, 3, 64, 64).float() / 127.5 - 1)
    assert torch.allclose(d.flatten(), ref.flatten(), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="LPIPS.*weights file not found"):
        load_lpips(tmp_path / "missing.pt")
