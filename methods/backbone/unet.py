"""Space-time UNet denoiser on latents ``[B, C, T, h, w]`` with an ordered list of named,
individually skippable blocks.

Execution order (``SpaceTimeUNet.block_names()``), for ``blocks_per_level = 2`` and two levels::

    down.0.res.0 down.0.temporal.0 [down.0.xattn.0] down.0.res.1 down.0.temporal.1 ... down.0.downsample
    down.1.res.0 ... mid.res.0 mid.temporal.0 [mid.xattn.0] mid.res.1
    up.1.res.0 up.1.temporal.0 ... up.1.upsample up.0.res.0 ... up.0.temporal.1

Each ``res``/``temporal``/``xattn`` block is residual and shape-preserving, so skipping it by name
(``skip={"down.1.temporal.0"}`` or ``unet.skipped``) makes it the identity (VDMini prunes blocks,
SNED skips them). Channel changes happen only in ``downsample``/``upsample``. Skip connections are
additive: the i-th up ResBlock of a level receives ``h + skip_i`` from the i-th down pair of that
level, so widths stay per-level and a level can be sliced as a whole.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vbench_lite.methods.backbone.layers import (
    TEMPORAL_TYPES,
    Cond,
    CrossAttention,
    ResBlock,
    group_norm,
    make_temporal,
    sinusoidal,
    zero_,
)

SKIPPABLE_KINDS = ("res", "temporal", "xattn")
LAYOUT_FREQS = 4  # sin/cos frequencies per axis of the layout field's position features


@dataclass(frozen=True)
class UNetConfig:
    latent_channels: int = 4
    widths: tuple[int, ...] = (16, 48)  # channels per resolution level
    blocks_per_level: int = 2  # ResBlock + temporal pairs per level (down and up)
    mid_blocks: int = 1  # ResBlocks in the middle (a temporal layer between consecutive ones)
    temporal: tuple[str, ...] = ("conv1d", "attn1d")  # temporal layer type per level; mid uses the last
    cross_attention: tuple[bool, ...] = (False, True)  # text cross-attention per level; mid uses the last
    group_channels: int = 4  # GroupNorm channels per group (valid under 0.5x / 0.75x width slicing)
    head_channels: int = 16
    emb_dim: int = 128
    text_dim: int = 64
    pos_dim: int = 32  # frame-index embedding width
    # Prompted-motion conditioning (off in the shipped baseline; see issue 3's direction analysis):
    coord_input: bool = False  # two normalised x/y coordinate channels appended to the input (CoordConv)
    frame_film: bool = False  # per-frame FiLM from (pooled text, frame index): text x time interaction
    layout: bool = False  # text-conditioned space-time field added at every level's entry (see _layout)
    layout_dim: int = 64  # hidden width of that field

    def __post_init__(self) -> None:
        n = len(self.widths)
        if len(self.temporal) != n or len(self.cross_attention) != n:
            raise ValueError(f"temporal and cross_attention need one entry per level ({n})")
        for kind in self.temporal:
            if kind not in TEMPORAL_TYPES:
                raise ValueError(f"unknown temporal layer type {kind!r}; use one of {', '.join(TEMPORAL_TYPES)}")
        if self.blocks_per_level < 1 or self.mid_blocks < 1:
            raise ValueError("blocks_per_level and mid_blocks must be at least 1")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UNetConfig:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Level:
    names: list[str] = field(default_factory=list)


class SpaceTimeUNet(nn.Module):
    """``forward(x, t, text, text_keep, text_pooled, frame_index=None, skip=())`` -> velocity."""

    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        cfg = self.config = config or UNetConfig()
        gc, hc, e = cfg.group_channels, cfg.head_channels, cfg.emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.text_proj = nn.Linear(cfg.text_dim, e)
        self.conv_in = nn.Conv2d(cfg.latent_channels + 2 * cfg.coord_input, cfg.widths[0], 3, padding=1)
        if cfg.frame_film:  # zero-initialised output: starts as the per-video FiLM
            self.frame_film = nn.Sequential(
                nn.Linear(cfg.text_dim + cfg.pos_dim, e), nn.SiLU(), zero_(nn.Linear(e, e))
            )
        if cfg.layout:
            # Random features of (timestep + caption, frame index, x/y position) summed then SiLU'd: a
            # zero-initialised linear readout of them can fit a caption x frame x position pattern (where
            # the prompted motion puts the object) without first growing a multiplicative interaction.
            ld = cfg.layout_dim
            self.layout_emb = nn.Linear(e, ld)
            self.layout_frame = nn.Linear(cfg.pos_dim, ld, bias=False)
            self.layout_xy = nn.Linear(4 * LAYOUT_FREQS, ld, bias=False)
            self.layout_out = nn.ModuleDict({
                f"{side}{i}": zero_(nn.Linear(ld, w)) for side in ("down", "up") for i, w in enumerate(cfg.widths)
            })
        self._plan: list[tuple[str, str]] = []  # (name, kind) in execution order

        def level(prefix: str, width: int, temporal: str, xattn: bool, n: int) -> nn.ModuleDict:
            d = nn.ModuleDict({
                "res": nn.ModuleList(ResBlock(width, e, gc) for _ in range(n)),
                "temporal": nn.ModuleList(make_temporal(temporal, width, gc, hc, cfg.pos_dim) for _ in range(n)),
            })
            if xattn:
                d["xattn"] = nn.ModuleList(CrossAttention(width, cfg.text_dim, gc, hc) for _ in range(n))
            return d

        nl = len(cfg.widths)
        self.down = nn.ModuleList()
        for i, w in enumerate(cfg.widths):
            d = level(f"down.{i}", w, cfg.temporal[i], cfg.cross_attention[i], cfg.blocks_per_level)
            if cfg.layout:
                self._plan.append((f"down{i}", "layout"))
            for j in range(cfg.blocks_per_level):
                self._plan += [(f"down.{i}.res.{j}", "res"), (f"down.{i}.temporal.{j}", "temporal")]
                if "xattn" in d:
                    self._plan.append((f"down.{i}.xattn.{j}", "xattn"))
                self._plan.append((f"down.{i}", "push"))
            if i < nl - 1:
                d["downsample"] = nn.Conv2d(w, cfg.widths[i + 1], 3, stride=2, padding=1)
                self._plan.append((f"down.{i}.downsample", "downsample"))
            self.down.append(d)
        wm = cfg.widths[-1]
        self.mid = nn.ModuleDict({"res": nn.ModuleList(ResBlock(wm, e, gc) for _ in range(cfg.mid_blocks))})
        if cfg.mid_blocks > 1:
            self.mid["temporal"] = nn.ModuleList(
                make_temporal(cfg.temporal[-1], wm, gc, hc, cfg.pos_dim) for _ in range(cfg.mid_blocks - 1)
            )
            if cfg.cross_attention[-1]:
                self.mid["xattn"] = nn.ModuleList(
                    CrossAttention(wm, cfg.text_dim, gc, hc) for _ in range(cfg.mid_blocks - 1)
                )
        for j in range(cfg.mid_blocks):
            self._plan.append((f"mid.res.{j}", "res"))
            if j < cfg.mid_blocks - 1:
                self._plan.append((f"mid.temporal.{j}", "temporal"))
                if "xattn" in self.mid:
                    self._plan.append((f"mid.xattn.{j}", "xattn"))
        self.up = nn.ModuleList()
        for i, w in enumerate(cfg.widths):
            d = level(f"up.{i}", w, cfg.temporal[i], cfg.cross_attention[i], cfg.blocks_per_level)
            if i < nl - 1:
                d["upsample"] = nn.Conv2d(cfg.widths[i + 1], w, 3, padding=1)
            self.up.append(d)
        for i in reversed(range(nl)):
            if cfg.layout:
                self._plan.append((f"up{i}", "layout"))
            for j in range(cfg.blocks_per_level):
                self._plan += [(f"up.{i}", "pop"), (f"up.{i}.res.{j}", "res"), (f"up.{i}.temporal.{j}", "temporal")]
                if "xattn" in self.up[i]:
                    self._plan.append((f"up.{i}.xattn.{j}", "xattn"))
            if i > 0:
                self._plan.append((f"up.{i - 1}.upsample", "upsample"))
        w0 = cfg.widths[0]
        self.norm_out = group_norm(w0, gc)
        self.conv_out = zero_(nn.Conv2d(w0, cfg.latent_channels, 3, padding=1))
        self.skipped: set[str] = set()

    # -- introspection -------------------------------------------------------------------------
    def block_names(self) -> list[str]:
        """Every named block in execution order (res, temporal, xattn, downsample, upsample)."""
        return [n for n, k in self._plan if k not in ("push", "pop", "layout")]

    def skippable_blocks(self) -> list[str]:
        return [n for n, k in self._plan if k in SKIPPABLE_KINDS]

    def check_skip(self, skip: Collection[str]) -> None:
        bad = sorted(set(skip) - set(self.skippable_blocks()))
        if bad:
            raise ValueError(f"cannot skip {bad}: skippable blocks are {self.skippable_blocks()}")

    # -- forward -------------------------------------------------------------------------------
    def make_cond(
        self, t: torch.Tensor, text: torch.Tensor, text_keep: torch.Tensor, text_pooled: torch.Tensor,
        frames: int, frame_index: torch.Tensor | None,
    ) -> Cond:
        b = t.shape[0]
        if frame_index is None:
            frame_index = torch.arange(frames, device=t.device)
        frame_index = frame_index.expand(b, frames) if frame_index.dim() == 1 else frame_index
        if frame_index.shape != (b, frames):
            raise ValueError(f"frame_index must be [T] or [B, T] = [{b}, {frames}], got {tuple(frame_index.shape)}")
        # Timestep embedding of 1000 * t, as in DDPM/ADM-style sinusoidal time conditioning.
        emb = self.time_mlp(sinusoidal(t * 1000.0, self.config.emb_dim)) + self.text_proj(text_pooled)
        pos = sinusoidal(frame_index, self.config.pos_dim)
        frame_film = None
        if self.config.frame_film:
            both = torch.cat([text_pooled.unsqueeze(1).expand(b, frames, -1), pos], dim=-1)
            frame_film = self.frame_film(both).reshape(b * frames, -1)
        layout = None
        if self.config.layout:  # the part of the layout field shared by every level (see _layout)
            layout = (self.layout_emb(F.silu(emb))[:, None] + self.layout_frame(pos))[:, :, None, None]
        return Cond(b, frames, emb, text, text_keep, pos, frame_film, layout)

    def _layout(self, name: str, c: Cond, hh: int, ww: int) -> torch.Tensor:
        """The ``layout`` field at one level's entry, ``[B*T, C, h, w]`` (any size: x/y are normalised)."""
        grid = self.coordinates(1, hh, ww, c.emb)[0].permute(1, 2, 0)  # [h, w, 2]: x then y
        ang = grid.unsqueeze(-1) * (math.pi / 2 * torch.arange(1, LAYOUT_FREQS + 1, device=grid.device))
        xy = torch.cat([ang.sin(), ang.cos()], dim=-1).flatten(-2)  # [h, w, 4 * LAYOUT_FREQS]
        z = c.layout + self.layout_xy(xy)  # [B, T, 1, 1, L] + [h, w, L]
        out = self.layout_out[name](F.silu(z))  # [B, T, h, w, C]
        return out.flatten(0, 1).permute(0, 3, 1, 2)

    @staticmethod
    def coordinates(rows: int, hh: int, ww: int, like: torch.Tensor) -> torch.Tensor:
        """Normalised x and y in [-1, 1] at every latent position, ``[rows, 2, h, w]`` (any size)."""
        ys = torch.linspace(-1.0, 1.0, hh, dtype=like.dtype, device=like.device)
        xs = torch.linspace(-1.0, 1.0, ww, dtype=like.dtype, device=like.device)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))  # [2, h, w]: x then y
        return grid.expand(rows, 2, hh, ww)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        text: torch.Tensor,
        text_keep: torch.Tensor,
        text_pooled: torch.Tensor,
        frame_index: torch.Tensor | None = None,
        skip: Collection[str] = (),
    ) -> torch.Tensor:
        b, ch, frames, hh, ww = x.shape
        skip = set(skip) | self.skipped
        if skip:
            self.check_skip(skip)
        c = self.make_cond(t, text, text_keep, text_pooled, frames, frame_index)
        h = x.transpose(1, 2).reshape(b * frames, ch, hh, ww)
        if self.config.coord_input:
            h = torch.cat([h, self.coordinates(b * frames, hh, ww, h)], dim=1)
        h = self.conv_in(h)
        skips: list[torch.Tensor] = []
        for name, kind in self._plan:
            if kind == "layout":
                h = h + self._layout(name, c, hh=h.shape[-2], ww=h.shape[-1])
            elif kind == "push":
                skips.append(h)
            elif kind == "pop":
                h = h + skips.pop()
            elif kind == "upsample":
                # Channel change at the coarse resolution (cheaper), then nearest upsampling.
                h = F.interpolate(self.get_submodule(name)(h), size=skips[-1].shape[-2:], mode="nearest")
            elif kind == "downsample":
                h = self.get_submodule(name)(h)
            elif name not in skip:
                h = self.get_submodule(name)(h, c)
        out = self.conv_out(F.silu(self.norm_out(h)))
        return out.view(b, frames, ch, hh, ww).transpose(1, 2)
