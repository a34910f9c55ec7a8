"""Tiny backbone configurations for tests and quick experiments of every method (seconds on a CPU).

Tiny networks are zero-initialised at their block outputs like the real ones; ``randomize`` gives
every parameter random values so that tests of skipping, temporal mixing or batching can tell
blocks apart.
"""

from __future__ import annotations

from pathlib import Path

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


def save_checkpoint_pair(root: Path, model: VideoDiffusion, sampler: dict, generation: dict | None = None) -> Path:
    """``root/ae`` (a random tiny autoencoder) and ``root/model`` (``model`` with ``sampler``, a
    :class:`~.sampler.FlowSampler` config, and ``generation``): a checkpoint pair the backbone adapter loads."""
    from dataclasses import asdict

    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.checkpoint import save_checkpoint
    from vbench_lite.methods.backbone.model import save_model

    ae = randomize(tiny_autoencoder(), std=0.1)
    save_checkpoint(root / "ae", {"autoencoder": ae.state_dict()}, {"autoencoder": asdict(ae.config)})
    _, ae_sha = load_autoencoder(root / "ae")
    extra = {"autoencoder_sha256": ae_sha, "sampler": sampler, **({"generation": generation} if generation else {})}
    save_model(root / "model", model, extra)
    return root
