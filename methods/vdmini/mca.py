"""Multi-frame Content Adversarial loss (MCA; Wu et al., arXiv 2411.18375, Sec. 3.3).

ICD matches the student's features frame by frame; MCA judges whole clips, so what a per-frame
loss cannot see (how content holds together across frames) is pushed towards the teacher's. The
discriminator is the backbone's shared :class:`MultiFrameDiscriminator` (a frame-wise 2D head per
frame, then temporal self-attention across frames, per feature level) on the frozen teacher's
encoder features (the outputs of its down stages and its middle, read through the UNet's taps),
conditioned on the noise level, as in latent adversarial distillation (LADD / SF-V):

- the clean videos both networks imply for the same ``x_t`` (``x0 = x_t - t v``) are re-noised at
  a fresh level ``s`` with the same noise for both, and fed through the teacher's encoder at ``s``;
- real = the teacher's prediction, fake = the student's;
- the discriminator minimises the hinge loss ``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``;
  the student minimises the hinge generator loss ``-E[D(fake)]``.

The teacher's weights are never the discriminator's parameters (it stays frozen); only the heads
train.
"""

from __future__ import annotations

from typing import Any

import torch

from vbench_lite.methods.backbone.discriminator import (
    MultiFrameDiscriminator,
    hinge_d_loss,
    hinge_g_loss,
    unet_features,
)
from vbench_lite.methods.backbone.flow import interpolate, sample_train_t
from vbench_lite.methods.backbone.layers import sinusoidal
from vbench_lite.methods.vdmini.icd import stage_of


def encoder_taps(blocks: list[str]) -> list[str]:
    """The last block of every down stage and of the middle: the encoder half's stage outputs."""
    last: dict[str, str] = {}
    for b in blocks:
        if b.startswith(("down.", "mid.")):
            last[stage_of(b)] = b
    return list(last.values())


class MultiFrameAdversary:
    """The MCA discriminator on a frozen teacher and both players' losses."""

    def __init__(self, teacher: Any, hidden: int = 64, noise_mean: float = 0.0, noise_std: float = 1.0) -> None:
        unet = teacher.unet
        cfg = unet.config
        self.taps = encoder_taps(unet.skippable_blocks())
        channels = {n: cfg.widths[-1] if n.startswith("mid.") else cfg.widths[int(n.split(".")[1])] for n in self.taps}
        self.emb_dim = cfg.emb_dim
        self.noise_mean, self.noise_std, self.hidden = noise_mean, noise_std, hidden
        self.disc = MultiFrameDiscriminator(unet_features(unet, self.taps), channels, cond_dim=cfg.emb_dim,
                                            hidden=hidden, group_channels=cfg.group_channels)

    def trainable(self) -> torch.nn.Module:
        return self.disc

    def _noised(self, x0: list[torch.Tensor], gen: torch.Generator) -> tuple[list[torch.Tensor], torch.Tensor]:
        b = x0[0].shape[0]
        s = sample_train_t(b, gen, self.noise_mean, self.noise_std)
        eps = torch.randn(x0[0].shape, generator=gen)
        return [interpolate(x, eps, s) for x in x0], s

    def _logits(self, x: torch.Tensor, s: torch.Tensor, text: tuple[torch.Tensor, ...]) -> torch.Tensor:
        cond = sinusoidal(s * 1000.0, self.emb_dim)  # the noise level, embedded as the UNet's timestep
        return self.disc(x, cond, s, *text)

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor, text: tuple[torch.Tensor, ...],
                           gen: torch.Generator) -> torch.Tensor:
        (xr, xf), s = self._noised([real.detach(), fake.detach()], gen)
        return hinge_d_loss(self._logits(xr, s, text), self._logits(xf, s, text))

    def generator_loss(self, fake: torch.Tensor, text: tuple[torch.Tensor, ...], gen: torch.Generator) -> torch.Tensor:
        (xf,), s = self._noised([fake], gen)
        return hinge_g_loss(self._logits(xf, s, text))

    def config(self) -> dict[str, Any]:
        return {"taps": self.taps, "hidden": self.hidden, "noise": {"mean": self.noise_mean, "std": self.noise_std},
                "generator_loss": "hinge (-E[D(fake)])", "discriminator_loss": "hinge"}
