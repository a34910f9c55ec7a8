"""Fidelity to the run's reference method (``RunSpec.reference_method``, by default the full-cost
baseline): PSNR, SSIM (and LPIPS when its weights are local) per frame between a method's video and
the reference method's video for the same prompt and seed.

This is how training-free accelerations report closeness to the model they accelerate (TeaCache,
Liu et al. 2024, Table 1; PAB, Zhao et al. 2024, Table 1): per-frame image metrics against the
original model's output, averaged over frames and videos.

Conventions: frames in 0..255 (``data_range=255``); PSNR = 10 log10(255^2 / MSE) from
``torchmetrics.functional.peak_signal_noise_ratio``, +inf for an identical frame (and so for a
video or a set containing one; reported as infinite, never capped); SSIM with torchmetrics'
defaults (Gaussian window 11, sigma 1.5, K = 0.01, 0.03). LPIPS (AlexNet, torchmetrics' ``_LPIPS``)
only when ``lpips_weights`` names a local state-dict file of that module (nothing is downloaded).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from vbench_lite.metrics.base import REFERENCE_METHOD_NEED, ColumnSpec, Metric, MetricConfig, MetricContext
from vbench_lite.results import MetricResult
from vbench_lite.video import validate

_LPIPS_CACHE: dict[str, Any] = {}


def _pair(videos: torch.Tensor, baseline: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    validate(videos, name="videos")
    validate(baseline, name="baseline videos")
    if videos.shape != baseline.shape:
        raise ValueError(
            f"fidelity compares videos with the baseline's of the same shape; got {tuple(videos.shape)} "
            f"and baseline {tuple(baseline.shape)} (same frames and resolution needed)"
        )
    b, t = videos.shape[:2]
    return videos.reshape(b * t, *videos.shape[2:]).double(), baseline.reshape(b * t, *videos.shape[2:]).double()


def psnr_per_frame(videos: torch.Tensor, baseline: torch.Tensor) -> torch.Tensor:
    """PSNR of every frame, ``[B, T]`` (dB; +inf where a frame equals the baseline's)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    x, y = _pair(videos, baseline)
    out = peak_signal_noise_ratio(x, y, data_range=255.0, reduction="none", dim=(1, 2, 3))
    return out.reshape(videos.shape[:2])


def ssim_per_frame(videos: torch.Tensor, baseline: torch.Tensor) -> torch.Tensor:
    """SSIM of every frame, ``[B, T]`` (torchmetrics defaults, data range 255)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    if min(videos.shape[-2:]) < 11:
        raise ValueError(f"SSIM needs frames of at least 11x11 px (its Gaussian window), got {tuple(videos.shape[-2:])}")
    x, y = _pair(videos, baseline)
    out = structural_similarity_index_measure(x, y, data_range=255.0, reduction="none")
    return out.reshape(videos.shape[:2])


def load_lpips(weights: str | os.PathLike[str]) -> Any:
    """torchmetrics' AlexNet LPIPS module with every weight (backbone and linear heads) read from
    a local state-dict file; nothing is fetched."""
    from torchmetrics.functional.image.lpips import _LPIPS

    from vbench_lite.fsutil import local_weights_file, sha256_file

    p = local_weights_file(weights, "LPIPS (AlexNet)", "pass lpips_weights PATH to an existing local file")
    key = str(p.resolve())
    if key not in _LPIPS_CACHE:
        net = _LPIPS(pretrained=False, net="alex", pnet_rand=True)
        sd = torch.load(str(p), map_location="cpu", weights_only=True)
        try:
            net.load_state_dict(sd)
        except RuntimeError as exc:
            raise ValueError(f"{p} is not a state dict of torchmetrics' AlexNet LPIPS: {str(exc).splitlines()[0]}") from exc
        net.eval().requires_grad_(False)
        net.sha256 = sha256_file(p)
        _LPIPS_CACHE[key] = net
    return _LPIPS_CACHE[key]


@torch.no_grad()
def lpips_per_frame(videos: torch.Tensor, baseline: torch.Tensor, net: Any) -> torch.Tensor:
    """LPIPS of every frame, ``[B, T]`` (inputs scaled to [-1, 1] as LPIPS expects)."""
    x, y = _pair(videos, baseline)
    out = net(x.float() / 127.5 - 1.0, y.float() / 127.5 - 1.0)
    return out.reshape(videos.shape[:2])


@dataclass(frozen=True)
class FidelityConfig(MetricConfig):
    lpips_weights: str | None = None  # torchmetrics' LPIPS AlexNet weights file; None: no LPIPS


class Fidelity(Metric):
    """Fidelity to the reference method's video of the same prompt and seed: PSNR, SSIM (, LPIPS)."""

    name: ClassVar[str] = "fidelity"
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool] = True
    needs: ClassVar[frozenset[str]] = frozenset({REFERENCE_METHOD_NEED})
    config_class: ClassVar[type[MetricConfig]] = FidelityConfig
    config: FidelityConfig
    columns: ClassVar[tuple[ColumnSpec, ...]] = (
        ColumnSpec("fidelity_psnr", "PSNR", key="psnr", digits=2, vs_reference=True, group="Fidelity", order=50),
        ColumnSpec("fidelity_ssim", "SSIM", key="ssim", digits=3, vs_reference=True, group="Fidelity", order=51),
    )

    def per_video(self, videos: torch.Tensor, items: list[Any], ctx: MetricContext) -> dict[str, np.ndarray]:
        if ctx.reference_method_videos is None:
            raise ValueError("fidelity needs the reference method's videos; give the run a reference method "
                             "(--reference-method NAME)")
        baseline = ctx.reference_method_videos(items)
        out = {
            "fidelity_psnr": psnr_per_frame(videos, baseline).mean(dim=1).numpy(),
            "fidelity_ssim": ssim_per_frame(videos, baseline).mean(dim=1).numpy(),
        }
        if self.config.lpips_weights:
            net = load_lpips(self.config.lpips_weights)
            out["fidelity_lpips"] = lpips_per_frame(videos, baseline, net).mean(dim=1).numpy()
        return out

    def aggregate(self, per_video: dict[str, np.ndarray], items: list[Any], ctx: MetricContext) -> list[MetricResult]:
        from vbench_lite.metrics.clipsim import mean_and_sem

        base = {"reference": f"{ctx.reference_method} video of the same prompt and seed", "per_video": "mean over frames",
                "num_videos": len(items), "data_range": 255}
        results = []
        psnr = np.asarray(per_video["fidelity_psnr"], dtype=np.float64)
        finite = psnr[np.isfinite(psnr)]
        value = float(psnr.mean())  # +inf as soon as one video is identical to the baseline
        results.append(MetricResult(
            name="fidelity_psnr", version=self.version, value=value, higher_is_better=True,
            protocol={**base, "metric": "PSNR dB, torchmetrics peak_signal_noise_ratio"},
            std=None if math.isinf(value) else mean_and_sem(psnr)[1],
            details={"identical_videos": int((~np.isfinite(psnr)).sum()),
                     "finite_mean": float(finite.mean()) if finite.size else None},
        ))
        mean, sem = mean_and_sem(per_video["fidelity_ssim"])
        results.append(MetricResult(
            name="fidelity_ssim", version=self.version, value=mean, higher_is_better=True, std=sem,
            protocol={**base, "metric": "SSIM, torchmetrics (gaussian 11, sigma 1.5)"},
        ))
        if "fidelity_lpips" in per_video:
            mean, sem = mean_and_sem(per_video["fidelity_lpips"])
            net = load_lpips(self.config.lpips_weights)
            results.append(MetricResult(
                name="fidelity_lpips", version=self.version, value=mean, higher_is_better=False, std=sem,
                protocol={**base, "metric": "LPIPS AlexNet (torchmetrics _LPIPS)", "weights_sha256": net.sha256},
            ))
        return results
