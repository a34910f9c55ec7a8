"""Building blocks of the space-time UNet, all acting on frame-major activations ``[B*T, C, H, W]``
(a video's frames are consecutive rows) with the per-call :class:`Cond`.

- :class:`ResBlock`: spatial 2D ResBlock with GroupNorm and timestep + pooled-text FiLM
  (ADM's scale-shift norm, Dhariwal & Nichol 2021, ``h = norm(h) * (1 + s) + b``).
- temporal layers from :func:`make_temporal` (``attn1d`` | ``conv1d`` | ``conv3d`` | ``none``);
  temporal attention gets sinusoidal embeddings of *absolute* frame indices, so a frame keeps its
  position when frames are subsampled.
- :class:`CrossAttention`: queries from every space-time position, keys/values from caption tokens.

Every layer runs on the leading channels of its input (width slicing, :mod:`.slicing`): a block
infers its width from ``h.shape[1]``; ``FUSED`` names the projections whose output is several
equal chunks. GroupNorm always uses groups of ``group_channels`` channels, so a width sliced to
0.5x or 0.75x (as long as it stays a multiple of ``group_channels``) keeps a valid group count. Every block's last
projection is zero-initialised, so each block starts as the identity (as in ADM / AnimateDiff).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from vbench_lite.methods.backbone import slicing as sl

TEMPORAL_TYPES: tuple[str, ...] = ("attn1d", "conv1d", "conv3d", "none")


@dataclass
class Cond:
    """Per-call conditioning shared by every block."""

    batch: int  # videos
    frames: int  # T
    emb: torch.Tensor  # [B, E] timestep + pooled text embedding
    text: torch.Tensor  # [B, L, D] caption token features
    text_keep: torch.Tensor  # [B, L] bool, True for real tokens
    frame_emb: torch.Tensor  # [B, T, P] sinusoidal embedding of absolute frame indices
    layout: torch.Tensor | None = None  # [B, T, 1, 1, L] caption + frame-index part of UNetConfig.layout's field


def sinusoidal(x: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Transformer sinusoidal embedding (Vaswani et al. 2017) of any-shaped ``x`` -> ``[..., dim]``."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=x.device) / half)
    args = x.float().unsqueeze(-1) * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def group_norm(channels: int, group_channels: int) -> nn.GroupNorm:
    if channels % group_channels:
        raise ValueError(f"width {channels} is not a multiple of group_channels={group_channels}")
    return nn.GroupNorm(channels // group_channels, channels, eps=1e-5)


def zero_(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


def per_frame(x: torch.Tensor, frames: int) -> torch.Tensor:
    """Repeat per-video rows ``[B, ...]`` to per-frame rows ``[B*T, ...]``."""
    return x.repeat_interleave(frames, dim=0)


class ResBlock(nn.Module):
    FUSED = {"film": 2}  # scale | shift

    def __init__(self, channels: int, emb_dim: int, group_channels: int) -> None:
        super().__init__()
        self.norm1 = group_norm(channels, group_channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * channels)
        self.norm2 = group_norm(channels, group_channels)
        self.conv2 = zero_(nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, h: torch.Tensor, c: Cond) -> torch.Tensor:
        k = h.shape[1]
        x = sl.conv(self.conv1, F.silu(sl.group_norm(self.norm1, h)), out=k)
        # one FiLM per video, repeated over its frames
        film = per_frame(sl.linear(self.film, F.silu(c.emb), out=k, chunks=2), c.frames)
        scale, shift = film[:, :, None, None].chunk(2, dim=1)
        x = sl.group_norm(self.norm2, x) * (1 + scale) + shift
        return h + sl.conv(self.conv2, F.silu(x), out=k)


class TemporalAttention(nn.Module):
    """Self-attention along T at every spatial position (AnimateDiff-style motion module)."""

    FUSED = {"qkv": 3}  # q | k | v

    def __init__(self, channels: int, group_channels: int, head_channels: int, pos_dim: int) -> None:
        super().__init__()
        self.head_channels = head_channels
        self.heads = sl.heads_at(channels, head_channels)
        self.norm = group_norm(channels, group_channels)
        self.pos = nn.Linear(pos_dim, channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = zero_(nn.Linear(channels, channels))

    def forward(self, h: torch.Tensor, c: Cond) -> torch.Tensor:
        bt, ch, hh, ww = h.shape
        b, t = c.batch, c.frames
        nh = sl.heads_at(ch, self.head_channels)
        x = sl.group_norm(self.norm, h).view(b, t, ch, hh * ww).permute(0, 3, 1, 2)  # [B, HW, T, C]
        x = x + sl.linear(self.pos, c.frame_emb, out=ch).unsqueeze(1)
        x = x.reshape(b * hh * ww, t, ch)
        q, k, v = sl.linear(self.qkv, x, out=ch, chunks=3).view(b * hh * ww, t, 3, nh, ch // nh).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, hh * ww, t, ch)
        a = sl.linear(self.out, a, out=ch).permute(0, 2, 3, 1).reshape(bt, ch, hh, ww)
        return h + a


class TemporalConv1d(nn.Module):
    """Kernel-3 convolution along T at every spatial position (factorised (2+1)D, Tran et al. 2018)."""

    def __init__(self, channels: int, group_channels: int) -> None:
        super().__init__()
        self.norm = group_norm(channels, group_channels)
        self.conv = zero_(nn.Conv1d(channels, channels, 3, padding=1))

    def forward(self, h: torch.Tensor, c: Cond) -> torch.Tensor:
        bt, ch, hh, ww = h.shape
        b, t = c.batch, c.frames
        x = F.silu(sl.group_norm(self.norm, h)).view(b, t, ch, hh * ww).permute(0, 3, 2, 1).reshape(b * hh * ww, ch, t)
        x = sl.conv(self.conv, x, out=ch).view(b, hh * ww, ch, t).permute(0, 3, 2, 1).reshape(bt, ch, hh, ww)
        return h + x


class TemporalConv3d(nn.Module):
    """Full 3x3x3 space-time convolution."""

    def __init__(self, channels: int, group_channels: int) -> None:
        super().__init__()
        self.norm = group_norm(channels, group_channels)
        self.conv = zero_(nn.Conv3d(channels, channels, 3, padding=1))

    def forward(self, h: torch.Tensor, c: Cond) -> torch.Tensor:
        bt, ch, hh, ww = h.shape
        b, t = c.batch, c.frames
        x = F.silu(sl.group_norm(self.norm, h)).view(b, t, ch, hh, ww).transpose(1, 2)
        x = sl.conv(self.conv, x, out=ch).transpose(1, 2).reshape(bt, ch, hh, ww)
        return h + x


class NoTemporal(nn.Module):
    """The ``none`` temporal type: frames are processed independently at this level."""

    def forward(self, h: torch.Tensor, c: Cond) -> torch.Tensor:
        return h


def make_temporal(kind: str, channels: int, group_channels: int, head_channels: int, pos_dim: int) -> nn.Module:
    """The temporal-layer factory (the axis SnapGen-V-style searches choose per level)."""
    if kind == "attn1d":
        return TemporalAttention(channels, group_channels, head_channels, pos_dim)
    if kind == "conv1d":
        return TemporalConv1d(channels, group_channels)
    if kind == "conv3d":
        return TemporalConv3d(channels, group_channels)
    if kind == "none":
        return NoTemporal()
    raise ValueError(f"unknown temporal layer type {kind!r}; use one of {', '.join(TEMPORAL_TYPES)}")


class CrossAttention(nn.Module):
    """Text cross-attention: every space-time position of a video attends to its caption tokens."""

    FUSED = {"kv": 2}  # k | v

    def __init__(self, channels: int, text_dim: int, group_channels: int, head_channels: int) -> None:
        super().__init__()
        self.head_channels = head_channels
        self.heads = sl.heads_at(channels, head_channels)
        self.norm = group_norm(channels, group_channels)
        self.q = nn.Linear(channels, channels)
        self.kv = nn.Linear(text_dim, 2 * channels)
        self.out = zero_(nn.Linear(channels, channels))

    def forward(self, h: torch.Tensor, c: Cond) -> torch.Tensor:
        bt, ch, hh, ww = h.shape
        b, t, nh = c.batch, c.frames, sl.heads_at(ch, self.head_channels)
        x = sl.group_norm(self.norm, h).view(b, t, ch, hh * ww).permute(0, 1, 3, 2).reshape(b, t * hh * ww, ch)
        q = sl.linear(self.q, x, out=ch).view(b, -1, nh, ch // nh).transpose(1, 2)
        k, v = sl.linear(self.kv, c.text, out=ch, chunks=2).view(b, -1, 2, nh, ch // nh).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=c.text_keep[:, None, None, :])
        a = sl.linear(self.out, a.transpose(1, 2).reshape(b, t * hh * ww, ch), out=ch)
        return h + a.view(b, t, hh * ww, ch).permute(0, 1, 3, 2).reshape(bt, ch, hh, ww)
