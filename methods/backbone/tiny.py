"""Tiny backbone configurations for tests and quick experiments of every method (seconds on a CPU).

Tiny networks are zero-initialised at their block outputs like the real ones; ``randomize`` gives
every parameter random values so that tests of skipping, temporal mixing or batching can tell
blocks apart.
"""

from __future__ import annotations

import torch
from torch import nn

from vbench_lite.methods.backbone.autoencoder import AutoencoderConfig, FrameAutoencoder
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.text import TextEncoderConfig, shapes_vocabulary
from vbench_lite.methods.backbone.unet import UNetConfig


def tiny_unet_config(**overrides: object) -> UNetConfig:
    """A two-level UNet of widths (8, 16); ``overrides`` as for :meth:`UNetConfig.per_level`
    (``temporal`` per level, ``blocks_per_level``) or any other field."""
    base = dict(widths=(8, 16), blocks_per_level=2, mid_blocks=2, temporal=("conv1d", "attn1d"),
                cross_attention=(False, True), group_channels=4, head_channels=8, emb_dim=16,
                text_dim=16, pos_dim=8, layout_dim=16)
    base.update(overrides)
    return UNetConfig.per_level(**base)  # type: ignore[arg-type]


def tiny_model(seed: int = 0, randomized: bool = True, **unet_overrides: object) -> VideoDiffusion:
    torch.manual_seed(seed)
    words = shapes_vocabulary()
    model = VideoDiffusion(tiny_unet_config(**unet_overrides), TextEncoderConfig(len(words), dim=16, layers=1, heads=2),
                           words)
    if randomized:
        randomize(model, seed)
    return model.eval()


def tiny_autoencoder(seed: int = 0) -> FrameAutoencoder:
    torch.manual_seed(seed)
    return FrameAutoencoder(AutoencoderConfig(widths=(8, 8))).eval()


@torch.no_grad()
def randomize(module: nn.Module, seed: int = 0, std: float = 0.2) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    for p in module.parameters():
        p.copy_(torch.randn(p.shape, generator=g) * std)
    return module
