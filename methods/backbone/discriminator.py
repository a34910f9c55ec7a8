"""The shared multi-frame discriminator for adversarial video diffusion training (SnapGen-V's
few-step fine-tuning, VDMini's adversarial term).

Design (as in the latent adversarial diffusion distillation line: LADD, Sauer et al. 2024; SF-V,
Zhang et al. 2024): the discriminator does not look at pixels. A *feature extractor* (any callable
returning named feature maps ``[B, C, T, h, w]``; typically the frozen denoiser's encoder half read
through the UNet's feature taps, :func:`unet_features`) turns a (noised) latent video into features
at several levels; each level has a trainable head:

1. a frame-wise 2D block (3x3 conv, GroupNorm, SiLU, stride-2 3x3 conv, GroupNorm, SiLU, spatial
   mean): one vector per frame;
2. temporal self-attention across the frames (with sinusoidal frame-position embeddings), so a
   head judges motion and not single frames only;
3. a projection output (Miyato & Koyama 2018): ``w . h + <embed(cond), h>`` per frame, averaged
   over frames, where ``cond`` is a condition vector (noise level embedding or pooled text).

The logits of all heads are summed. Hinge losses (Lim & Ye 2017; Miyato et al. 2018):
``L_D = E[relu(1 - D(real))] + E[relu(1 + D(fake))]``, ``L_G = -E[D(fake)]``.

:func:`adaptive_weight` balances a generator loss against a regression loss by their gradients at
the generator's last layer (Esser et al. 2021, VQGAN), for objectives whose adversarial gradient
would otherwise swamp the regression term.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vbench_lite.methods.backbone.layers import group_norm, sinusoidal

FeatureExtractor = Callable[..., Mapping[str, torch.Tensor]]  # (x, *args) -> {name: [B, C, T, h, w]}


class FrameTemporalHead(nn.Module):
    """One level's head: frame-wise 2D block, temporal self-attention, projection output."""

    def __init__(self, channels: int, cond_dim: int, hidden: int = 64, heads: int = 4, group_channels: int = 4,
                 pos_dim: int = 32) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden {hidden} is not a multiple of heads {heads}")
        self.heads, self.pos_dim = heads, pos_dim
        self.frame = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1), group_norm(hidden, group_channels), nn.SiLU(),
            nn.Conv2d(hidden, hidden, 3, stride=2, padding=1), group_norm(hidden, group_channels), nn.SiLU(),
        )
        self.pos = nn.Linear(pos_dim, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.embed = nn.Linear(cond_dim, hidden)

    def forward(self, f: torch.Tensor, cond: torch.Tensor, frame_index: torch.Tensor | None = None) -> torch.Tensor:
        """``f``: ``[B, C, T, h, w]``, ``cond``: ``[B, cond_dim]`` -> logits ``[B]``."""
        b, c, t, hh, ww = f.shape
        h = self.frame(f.transpose(1, 2).reshape(b * t, c, hh, ww)).mean(dim=(2, 3)).view(b, t, -1)  # [B, T, H]
        positions = torch.arange(t, device=f.device) if frame_index is None else frame_index.to(f.device)
        h = h + self.pos(sinusoidal(positions, self.pos_dim)).expand(b, t, -1)
        q, k, v = self.qkv(self.norm(h)).view(b, t, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        h = h + self.attn_out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, -1))
        logits = self.out(h).squeeze(-1) + (self.embed(cond)[:, None] * h).sum(-1)  # [B, T]
        return logits.mean(dim=1)


class MultiFrameDiscriminator(nn.Module):
    """``D(x, cond, *extractor_args)`` -> logits ``[B]``: per-level heads over the extractor's features.

    ``extractor`` is held as a plain attribute, not a submodule: its parameters are never the
    discriminator's (a frozen denoiser stays frozen, and its weights are not saved with D).
    ``channels`` maps each feature name the extractor returns to its channel count.
    """

    def __init__(self, extractor: FeatureExtractor, channels: Mapping[str, int], cond_dim: int,
                 hidden: int = 64, heads: int = 4, group_channels: int = 4) -> None:
        super().__init__()
        if not channels:
            raise ValueError("the discriminator needs at least one feature level")
        object.__setattr__(self, "extractor", extractor)
        self.names = tuple(channels)
        self.level_heads = nn.ModuleDict({
            _key(n): FrameTemporalHead(ch, cond_dim, hidden, heads, group_channels) for n, ch in channels.items()
        })

    def score(self, features: Mapping[str, torch.Tensor], cond: torch.Tensor,
              frame_index: torch.Tensor | None = None) -> torch.Tensor:
        """Logits from already extracted ``features``."""
        missing = [n for n in self.names if n not in features]
        if missing:
            raise ValueError(f"the feature extractor returned no {missing}; it returned {sorted(features)}")
        return sum(self.level_heads[_key(n)](features[n], cond, frame_index) for n in self.names)  # type: ignore[return-value]

    def forward(self, x: torch.Tensor, cond: torch.Tensor, *args: Any,
                frame_index: torch.Tensor | None = None) -> torch.Tensor:
        return self.score(self.extractor(x, *args), cond, frame_index)


def _key(name: str) -> str:
    return name.replace(".", "_")  # ModuleDict keys cannot hold dots


def unet_features(unet: nn.Module, names: Sequence[str]) -> FeatureExtractor:
    """A feature extractor from a (frozen) UNet's taps: ``f(x, t, text, text_keep, text_pooled)``.

    The pass stops after the last named block, so tapping the encoder half costs only that half.
    """
    names = tuple(names)

    def extract(x: torch.Tensor, t: torch.Tensor, *text: torch.Tensor) -> Mapping[str, torch.Tensor]:
        return unet(x, t, *text, return_features=names, features_only=True)

    return extract


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``-E[D(fake)]``."""
    return -fake_logits.mean()


def adaptive_weight(task_loss: torch.Tensor, adv_loss: torch.Tensor, last_layer: torch.Tensor,
                    max_weight: float = 1e4, eps: float = 1e-4) -> torch.Tensor:
    """``||grad task_loss|| / (||grad adv_loss|| + eps)`` at ``last_layer`` (the generator's output
    weight), clamped to ``[0, max_weight]`` and detached (Esser et al. 2021, "Taming Transformers",
    Eq. 7). Multiplying ``adv_loss`` by it makes the adversarial gradient at that layer as large as
    the task's, whatever the discriminator's scale. Both graphs are kept for the real backward.
    """
    g_task = torch.autograd.grad(task_loss, last_layer, retain_graph=True)[0]
    g_adv = torch.autograd.grad(adv_loss, last_layer, retain_graph=True)[0]
    return (g_task.norm() / (g_adv.norm() + eps)).clamp(0.0, max_weight).detach()
