"""Space-time UNet denoiser on latents ``[B, C, T, h, w]`` with an ordered list of named blocks
that can be skipped, tapped for features (``return_features``), physically pruned (:mod:`.prune`)
or width-sliced (:mod:`.slicing`). The architecture is data (:class:`UNetConfig`).

Execution order (``SpaceTimeUNet.block_names()``), for two blocks per level and two levels::

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
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vbench_lite.methods.backbone import slicing as sl
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
LEGACY_KEYS = ("blocks_per_level", "temporal", "coord_input", "frame_film")


@dataclass(frozen=True)
class UNetConfig:
    """The architecture as data; ``UNetConfig()`` is the shipped baseline's UNet.

    Level ``i`` has ``blocks[i]`` slots on the way down and as many on the way up; a slot is a
    ResBlock, a temporal layer of the slot's own type (``temporal_down[i][j]`` / ``temporal_up[i][j]``,
    one of ``TEMPORAL_TYPES``) and, where ``cross_attention[i]``, text cross-attention. The middle
    has ``mid_blocks`` ResBlocks with a temporal layer (``temporal_mid[j]``) and, where the last
    level has cross-attention, a cross-attention between consecutive ones. ``pruned`` names blocks
    that are physically absent (:func:`vbench_lite.methods.backbone.prune.prune`).
    """

    latent_channels: int = 4
    widths: tuple[int, ...] = (16, 48)  # channels per resolution level
    blocks: tuple[int, ...] = (2, 2)  # slots per level (down and up alike)
    mid_blocks: int = 1
    temporal_down: tuple[tuple[str, ...], ...] = (("conv1d", "conv1d"), ("attn1d", "attn1d"))
    temporal_up: tuple[tuple[str, ...], ...] = (("conv1d", "conv1d"), ("attn1d", "attn1d"))
    temporal_mid: tuple[str, ...] = ()  # one type per mid temporal layer (mid_blocks - 1)
    cross_attention: tuple[bool, ...] = (False, True)  # text cross-attention per level; mid uses the last
    group_channels: int = 4  # GroupNorm channels per group (valid under 0.5x / 0.75x width slicing)
    head_channels: int = 16
    emb_dim: int = 128
    text_dim: int = 64
    pos_dim: int = 32  # frame-index embedding width
    layout: bool = True  # text-conditioned space-time field added at every level's entry (see _layout)
    layout_dim: int = 64  # hidden width of that field
    pruned: tuple[str, ...] = ()  # blocks physically absent

    def __post_init__(self) -> None:
        n = len(self.widths)
        for name in ("blocks", "temporal_down", "temporal_up", "cross_attention"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} needs one entry per level ({n}), got {getattr(self, name)}")
        if any(k < 1 for k in self.blocks) or self.mid_blocks < 1:
            raise ValueError(f"every level needs at least 1 block and mid_blocks at least 1, got {self.blocks}")
        for side in ("temporal_down", "temporal_up"):
            for i, types in enumerate(getattr(self, side)):
                if len(types) != self.blocks[i]:
                    raise ValueError(f"{side}[{i}] needs one type per block of level {i} ({self.blocks[i]}), "
                                     f"got {types}")
        if len(self.temporal_mid) != self.mid_blocks - 1:
            raise ValueError(f"temporal_mid needs mid_blocks - 1 = {self.mid_blocks - 1} types, got {self.temporal_mid}")
        for kind in (k for side in (*self.temporal_down, *self.temporal_up, self.temporal_mid) for k in side):
            if kind not in TEMPORAL_TYPES:
                raise ValueError(f"unknown temporal layer type {kind!r}; use one of {', '.join(TEMPORAL_TYPES)}")

    @classmethod
    def per_level(
        cls, *, widths: tuple[int, ...] = (16, 48), blocks_per_level: int = 2, mid_blocks: int = 1,
        temporal: tuple[str, ...] = ("conv1d", "attn1d"), **kwargs: Any,
    ) -> UNetConfig:
        """The same block count and temporal type for every slot of a level (the mid uses the last)."""
        if len(temporal) != len(widths):
            raise ValueError(f"temporal needs one entry per level ({len(widths)}), got {temporal}")
        for kind in temporal:
            if kind not in TEMPORAL_TYPES:
                raise ValueError(f"unknown temporal layer type {kind!r}; use one of {', '.join(TEMPORAL_TYPES)}")
        per_block = tuple((kind,) * blocks_per_level for kind in temporal)
        return cls(widths=tuple(widths), blocks=(blocks_per_level,) * len(widths), mid_blocks=mid_blocks,
                   temporal_down=per_block, temporal_up=per_block, temporal_mid=(temporal[-1],) * (mid_blocks - 1),
                   **kwargs)

    def temporal_type(self, name: str) -> str:
        """The temporal type of block ``name`` (``down.1.temporal.0``, ``mid.temporal.0``, ...)."""
        parts = name.split(".")
        if parts[0] == "mid":
            return self.temporal_mid[int(parts[2])]
        side = self.temporal_down if parts[0] == "down" else self.temporal_up
        return side[int(parts[1])][int(parts[3])]

    def with_temporal(self, types: dict[str, str]) -> UNetConfig:
        """A copy with the temporal blocks named in ``types`` changed (a per-block search's move)."""
        down = [list(t) for t in self.temporal_down]
        up = [list(t) for t in self.temporal_up]
        mid = list(self.temporal_mid)
        for name, kind in types.items():
            parts = name.split(".")
            if len(parts) == 3 and parts[:2] == ["mid", "temporal"]:
                mid[int(parts[2])] = kind
            elif len(parts) == 4 and parts[0] in ("down", "up") and parts[2] == "temporal":
                (down if parts[0] == "down" else up)[int(parts[1])][int(parts[3])] = kind
            else:
                raise ValueError(f"{name!r} is not a temporal block name (e.g. down.1.temporal.0)")
        return replace(self, temporal_down=tuple(map(tuple, down)), temporal_up=tuple(map(tuple, up)),
                       temporal_mid=tuple(mid))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UNetConfig:
        """Read ``to_dict()``'s form, or the per-level form of the checkpoints before issue 14."""
        d = dict(d)
        if any(k in d for k in LEGACY_KEYS):
            for opt in ("coord_input", "frame_film"):
                if d.pop(opt, False):
                    raise ValueError(f"UNet option {opt!r} was removed (superseded by 'layout'); "
                                     "retrain this checkpoint with the current backbone")
            legacy = {k: tuple(d.pop(k)) if k == "temporal" else d.pop(k)
                      for k in ("widths", "blocks_per_level", "mid_blocks", "temporal") if k in d}
            return cls.per_level(**legacy, **_tuples(d))  # type: ignore[arg-type]
        return cls(**_tuples(d))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tuples(d: dict[str, Any]) -> dict[str, Any]:
    """JSON lists back to (nested) tuples."""
    def conv(v: Any) -> Any:
        return tuple(conv(x) for x in v) if isinstance(v, list) else v

    return {k: conv(v) for k, v in d.items()}


class SpaceTimeUNet(nn.Module):
    """``forward(x, t, text, text_keep, text_pooled, frame_index=None, skip=(), return_features=())``
    -> velocity, or ``(velocity, {block name: output})`` when ``return_features`` names blocks."""

    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        cfg = self.config = config or UNetConfig()
        gc, hc, e = cfg.group_channels, cfg.head_channels, cfg.emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.text_proj = nn.Linear(cfg.text_dim, e)
        self.conv_in = nn.Conv2d(cfg.latent_channels, cfg.widths[0], 3, padding=1)
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
        known: set[str] = set()
        pruned = set(cfg.pruned)

        def blocks(prefix: str, kind: str, make: Any, n: int) -> nn.ModuleDict:
            """Blocks ``prefix.kind.j`` for j < n, keyed "j" (state-dict names as a ModuleList's)."""
            names = [f"{prefix}.{kind}.{j}" for j in range(n)]
            known.update(names)
            return nn.ModuleDict({str(j): make(j) for j, name in enumerate(names) if name not in pruned})

        def level(prefix: str, width: int, types: tuple[str, ...], xattn: bool, n: int) -> nn.ModuleDict:
            d = nn.ModuleDict({
                "res": blocks(prefix, "res", lambda j: ResBlock(width, e, gc), n),
                "temporal": blocks(prefix, "temporal", lambda j: make_temporal(types[j], width, gc, hc, cfg.pos_dim), n),
            })
            if xattn:
                d["xattn"] = blocks(prefix, "xattn", lambda j: CrossAttention(width, cfg.text_dim, gc, hc), n)
            return d

        def slot(prefix: str, j: int, xattn: bool) -> None:
            for kind in ("res", "temporal", "xattn") if xattn else ("res", "temporal"):
                self._plan.append((f"{prefix}.{kind}.{j}", kind))

        nl = len(cfg.widths)
        self.down = nn.ModuleList()
        for i, w in enumerate(cfg.widths):
            d = level(f"down.{i}", w, cfg.temporal_down[i], cfg.cross_attention[i], cfg.blocks[i])
            if cfg.layout:
                self._plan.append((f"down{i}", "layout"))
            for j in range(cfg.blocks[i]):
                slot(f"down.{i}", j, "xattn" in d)
                self._plan.append((f"down.{i}", "push"))
            if i < nl - 1:
                d["downsample"] = nn.Conv2d(w, cfg.widths[i + 1], 3, stride=2, padding=1)
                self._plan.append((f"down.{i}.downsample", "downsample"))
            self.down.append(d)
        wm, mid_x = cfg.widths[-1], cfg.cross_attention[-1] and cfg.mid_blocks > 1
        self.mid = nn.ModuleDict({"res": blocks("mid", "res", lambda j: ResBlock(wm, e, gc), cfg.mid_blocks)})
        if cfg.mid_blocks > 1:
            self.mid["temporal"] = blocks(
                "mid", "temporal", lambda j: make_temporal(cfg.temporal_mid[j], wm, gc, hc, cfg.pos_dim),
                cfg.mid_blocks - 1)
            if mid_x:
                self.mid["xattn"] = blocks("mid", "xattn", lambda j: CrossAttention(wm, cfg.text_dim, gc, hc),
                                           cfg.mid_blocks - 1)
        for j in range(cfg.mid_blocks):
            self._plan.append((f"mid.res.{j}", "res"))
            if j < cfg.mid_blocks - 1:
                self._plan.append((f"mid.temporal.{j}", "temporal"))
                if mid_x:
                    self._plan.append((f"mid.xattn.{j}", "xattn"))
        self.up = nn.ModuleList()
        for i, w in enumerate(cfg.widths):
            d = level(f"up.{i}", w, cfg.temporal_up[i], cfg.cross_attention[i], cfg.blocks[i])
            if i < nl - 1:
                d["upsample"] = nn.Conv2d(cfg.widths[i + 1], w, 3, padding=1)
            self.up.append(d)
        for i in reversed(range(nl)):
            if cfg.layout:
                self._plan.append((f"up{i}", "layout"))
            for j in range(cfg.blocks[i]):
                self._plan.append((f"up.{i}", "pop"))
                slot(f"up.{i}", j, "xattn" in self.up[i])
            if i > 0:
                self._plan.append((f"up.{i - 1}.upsample", "upsample"))
        unknown = sorted(pruned - known)
        if unknown:
            raise ValueError(f"cannot prune {unknown}: no such res/temporal/xattn block in this UNet")
        self._plan = [(n, k) for n, k in self._plan if n not in pruned]
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
        layout = None
        if self.config.layout:  # the part of the layout field shared by every level (see _layout)
            layout = (self.layout_emb(F.silu(emb))[:, None] + self.layout_frame(pos))[:, :, None, None]
        return Cond(b, frames, emb, text, text_keep, pos, layout)

    def _layout(self, name: str, c: Cond, hh: int, ww: int, width: int | None = None) -> torch.Tensor:
        """The ``layout`` field at one level's entry, ``[B*T, C, h, w]`` (any size: x/y are normalised)."""
        grid = self.coordinates(1, hh, ww, c.emb)[0].permute(1, 2, 0)  # [h, w, 2]: x then y
        ang = grid.unsqueeze(-1) * (math.pi / 2 * torch.arange(1, LAYOUT_FREQS + 1, device=grid.device))
        xy = torch.cat([ang.sin(), ang.cos()], dim=-1).flatten(-2)  # [h, w, 4 * LAYOUT_FREQS]
        z = c.layout + self.layout_xy(xy)  # [B, T, 1, 1, L] + [h, w, L]
        out = sl.linear(self.layout_out[name], F.silu(z), out=width)  # [B, T, h, w, C]
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
        return_features: Sequence[str] = (),
        widths: Sequence[int] | None = None,
        features_only: bool = False,
    ) -> Any:
        """The velocity ``[B, C, T, h, w]``; with ``return_features`` (block names, see
        :meth:`block_names`) also those blocks' outputs, each ``[B, C_block, T, h_block, w_block]``,
        from the same pass (a skipped block's output is its input): ``(velocity, {name: output})``,
        or only the dict with ``features_only`` (the pass stops after the last tapped block).
        ``widths``: run every level on the leading ``widths[i]`` channels (:mod:`.slicing`)."""
        b, ch, frames, hh, ww = x.shape
        skip = set(skip) | self.skipped
        if skip:
            self.check_skip(skip)
        taps = set(return_features)
        if taps - set(self.block_names()):
            raise ValueError(f"cannot tap {sorted(taps - set(self.block_names()))}: blocks are {self.block_names()}")
        if features_only and not taps:
            raise ValueError("features_only needs return_features")
        wd = self.config.widths if widths is None else sl.check_widths(self.config, widths)
        features: dict[str, torch.Tensor] = {}
        c = self.make_cond(t, text, text_keep, text_pooled, frames, frame_index)
        h = sl.conv(self.conv_in, x.transpose(1, 2).reshape(b * frames, ch, hh, ww), out=wd[0])
        skips: list[torch.Tensor] = []
        for name, kind in self._plan:
            if kind == "layout":
                h = h + self._layout(name, c, hh=h.shape[-2], ww=h.shape[-1], width=h.shape[1])
            elif kind == "push":
                skips.append(h)
            elif kind == "pop":
                h = h + skips.pop()
            elif kind == "upsample":
                # Channel change at the coarse resolution (cheaper), then nearest upsampling.
                level = int(name.split(".")[1])
                h = F.interpolate(sl.conv(self.get_submodule(name), h, out=wd[level]), size=skips[-1].shape[-2:],
                                  mode="nearest")
            elif kind == "downsample":
                h = sl.conv(self.get_submodule(name), h, out=wd[int(name.split(".")[1]) + 1])
            elif name not in skip:
                h = self.get_submodule(name)(h, c)
            if name in taps:
                features[name] = h.view(b, frames, *h.shape[1:]).transpose(1, 2)
                if features_only and len(features) == len(taps):
                    return {n: features[n] for n in return_features}
        out = sl.conv(self.conv_out, F.silu(sl.group_norm(self.norm_out, h)), out=ch)
        v = out.view(b, frames, ch, hh, ww).transpose(1, 2)
        if return_features:
            return v, {n: features[n] for n in return_features}
        return v
