"""Deterministic convolutional frame autoencoder: RGB frames <-> latents with 4x spatial reduction
and 4 channels (32x32x3 -> 8x8x4), fully convolutional so it also runs at 24, 48 and 64 px.

Latents are normalised to unit variance with a scale and shift measured after training and stored
in the checkpoint (as Stable Diffusion stores its VAE ``scaling_factor``): ``z = (enc(x) - shift) * scale``.
Pixels enter as uint8 and are mapped to [-1, 1] inside :meth:`FrameAutoencoder.encode_video`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vbench_lite.methods.backbone.checkpoint import load_checkpoint, weights_sha256

logger = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "autoencoder"
TRAIN_COMMAND = "python -m vbench_lite train --autoencoder"
DOWNSCALE = 4


@dataclass(frozen=True)
class AutoencoderConfig:
    latent_channels: int = 4
    widths: tuple[int, int] = (16, 48)  # full resolution, then the two downsampled levels


class _Res(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class FrameAutoencoder(nn.Module):
    """Per-frame encoder/decoder; ``encode``/``decode`` work on float frames ``[N, 3, H, W]`` in [-1, 1]."""

    def __init__(self, config: AutoencoderConfig | None = None) -> None:
        super().__init__()
        self.config = config or AutoencoderConfig()
        c0, c1 = self.config.widths
        zc = self.config.latent_channels
        self.encoder = nn.Sequential(
            nn.Conv2d(3, c0, 3, padding=1), nn.SiLU(),
            nn.Conv2d(c0, c1, 3, stride=2, padding=1), _Res(c1),
            nn.Conv2d(c1, c1, 3, stride=2, padding=1), _Res(c1), nn.SiLU(),
            nn.Conv2d(c1, zc, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(zc, c1, 3, padding=1), _Res(c1),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c1, c1, 3, padding=1), _Res(c1),
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c1, c0, 3, padding=1), nn.SiLU(),
            nn.Conv2d(c0, 3, 3, padding=1),
        )
        # Latent normalisation measured after training (z = (enc(x) - shift) * scale).
        self.register_buffer("latent_scale", torch.ones(()))
        self.register_buffer("latent_shift", torch.zeros(()))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return (self.encoder(x) - self.latent_shift) * self.latent_scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z / self.latent_scale + self.latent_shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    @staticmethod
    def check_resolution(h: int, w: int) -> None:
        if h % DOWNSCALE or w % DOWNSCALE:
            raise ValueError(f"frame size {h}x{w} must be divisible by {DOWNSCALE} for the autoencoder")

    def encode_video(self, video: torch.Tensor) -> torch.Tensor:
        """uint8 ``[B, T, 3, H, W]`` -> normalised latents ``[B, C, T, H/4, W/4]``."""
        b, t, _, h, w = video.shape
        self.check_resolution(h, w)
        x = video.reshape(b * t, 3, h, w).float() / 127.5 - 1.0
        z = self.encode(x)
        return z.reshape(b, t, *z.shape[1:]).permute(0, 2, 1, 3, 4).contiguous()

    def decode_video(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``[B, C, T, h, w]`` -> uint8 ``[B, T, 3, 4h, 4w]``."""
        b, c, t, h, w = z.shape
        x = self.decode(z.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))
        x = ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
        return x.reshape(b, t, 3, *x.shape[-2:])


def to_unit(video: torch.Tensor) -> torch.Tensor:
    """uint8 frames -> float in [-1, 1]."""
    return video.float() / 127.5 - 1.0


def psnr_uint8(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB between two uint8 tensors over all their pixels (peak 255)."""
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10.0 * torch.log10(torch.tensor(255.0**2 / mse)).item()


def autoencoder_from_state(state: dict[str, torch.Tensor], config: dict[str, Any]) -> FrameAutoencoder:
    cfg = AutoencoderConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})
    model = FrameAutoencoder(cfg)
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.eval().requires_grad_(False)


@cache
def _load_cached(folder: str) -> tuple[FrameAutoencoder, str]:
    tensors, config, files = load_checkpoint(folder, TRAIN_COMMAND)
    model = autoencoder_from_state(tensors["autoencoder"], config["autoencoder"])
    return model, weights_sha256(files)


def load_autoencoder(folder: str | Path | None = None) -> tuple[FrameAutoencoder, str]:
    """The shipped (or given) autoencoder checkpoint, verified: (model in eval mode, weights SHA-256).

    The returned module is shared between callers: treat it as read-only.
    """
    return _load_cached(str(Path(folder) if folder else WEIGHTS_DIR))


def config_dict(model: FrameAutoencoder) -> dict[str, Any]:
    return asdict(model.config)
