"""``i3d``: the StyleGAN-V Kinetics-400 I3D TorchScript detector (the real FVD protocol).

The file is the ``i3d_torchscript.pt`` that StyleGAN-V (``src/metrics/frechet_video_distance.py``)
and most FVD code since use: a port of the TF-Hub I3D of the original FVD (Unterthiner et al.
2018). It is never downloaded here: pass ``--detector-weights PATH`` or put the file in the folder
named by ``$VBENCH_LITE_WEIGHTS``.

Call convention, exactly as StyleGAN-V's ``metric_utils.compute_feature_stats_for_dataset``:
uint8 clips permuted to ``[B, C, T, H, W]`` and
``detector(clips, rescale=True, resize=True, return_features=True)``; the module itself maps
x -> x / 255 * 2 - 1 and resizes bilinearly to 224x224, and returns the 400-d pre-softmax
features. StyleGAN-V evaluates 16 consecutive frames per clip.

FVD with this detector defaults to StyleGAN-V's covariance (``FeatureStats.get_mean_cov``: divide
by N, as cd-fvd does too), so the StyleGAN-V protocol gives StyleGAN-V's number; ``covariance=
unbiased`` (N - 1) stays available and is recorded either way.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import ClassVar

import torch

from vbench_lite.metrics.detectors.base import FeatureDetector

WEIGHTS_FILE = "i3d_torchscript.pt"
WEIGHTS_ENV = "VBENCH_LITE_WEIGHTS"


def default_weights_path() -> Path | None:
    folder = os.environ.get(WEIGHTS_ENV)
    return Path(folder) / WEIGHTS_FILE if folder else None


class I3DDetector(FeatureDetector):
    """StyleGAN-V I3D TorchScript (Kinetics-400), 400-d pre-softmax features, 16 frames."""

    name: ClassVar[str] = "i3d"
    feature_dim: ClassVar[int] = 400
    num_frames: ClassVar[int] = 16
    input_size: ClassVar[int | None] = 224  # StyleGAN-V resizes every frame to 224 x 224
    input_convention: ClassVar[str] = "uint8 [B, 16, 3, H, W] RGB, passed as uint8 [B, 3, 16, H, W]"
    preprocessing: ClassVar[str] = (
        "none by vbench_lite; the TorchScript module is called with rescale=True (x/255*2-1), "
        "resize=True (bilinear to 224x224), return_features=True (400-d pre-softmax), as StyleGAN-V"
    )
    chunk_size: ClassVar[int] = 16
    covariance: ClassVar[str] = "stylegan-v"

    def __init__(self, module: torch.jit.ScriptModule, **kwargs):
        super().__init__(**kwargs)
        self.module = module

    @classmethod
    def load(cls, weights: str | os.PathLike[str] | None = None, device: str = "cpu") -> I3DDetector:
        from vbench_lite.fsutil import sha256_file

        path = Path(weights) if weights else default_weights_path()
        if path is None:
            raise FileNotFoundError(
                f"i3d detector weights not given: pass --detector-weights PATH/{WEIGHTS_FILE} or set "
                f"{WEIGHTS_ENV} to the folder holding {WEIGHTS_FILE} (StyleGAN-V's I3D TorchScript)"
            )
        if not path.is_file():
            raise FileNotFoundError(
                f"i3d detector weights not found: {path}; put StyleGAN-V's {WEIGHTS_FILE} there "
                f"(or pass --detector-weights PATH, or set {WEIGHTS_ENV} to its folder)"
            )
        try:
            with warnings.catch_warnings():  # torch 2.x marks TorchScript deprecated; the file is TorchScript
                warnings.simplefilter("ignore", FutureWarning)
                module = torch.jit.load(str(path), map_location=device).eval()
        except RuntimeError as exc:
            raise ValueError(f"{path} is not a TorchScript file: {str(exc).splitlines()[0]}") from exc
        return cls(module, weights_sha256=sha256_file(path), weights_path=str(path), device=device)

    def _features(self, chunk: torch.Tensor) -> torch.Tensor:
        clips = chunk.permute(0, 2, 1, 3, 4).contiguous()  # [B, C, T, H, W] uint8, as StyleGAN-V
        try:
            out = self.module(clips, rescale=True, resize=True, return_features=True)
        except RuntimeError as exc:  # another TorchScript network: wrong signature or input layout
            raise ValueError(
                f"the TorchScript at {self.weights_path} cannot be called as StyleGAN-V's I3D "
                f"(x, rescale=True, resize=True, return_features=True): {str(exc).splitlines()[0][:200]}"
            ) from exc
        if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] != self.feature_dim:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(
                f"the i3d TorchScript at {self.weights_path} returned {shape}, expected "
                f"[B, {self.feature_dim}] features; is it StyleGAN-V's {WEIGHTS_FILE}?"
            )
        return out
