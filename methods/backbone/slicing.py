"""Width slicing: every layer of the UNet can run on the leading ``k`` channels of its shared
weights (the once-for-all / BigNAS practice: Cai et al. 2020, Yu et al. 2020), so one set of weights
holds a family of narrower subnetworks (SNED's supernet).

Rule: a layer run at width ``k`` computes exactly what a layer *built* at width ``k`` computes with
the leading-channel weights copied in (:func:`sliced_state_dict`): convolutions and linears take
the leading input and output channels (for fused projections, the leading ``k`` of each chunk:
``q|k|v``, ``scale|shift``, ``k|v``), GroupNorm keeps ``group_channels`` channels per group (so
``k / group_channels`` groups), attention has ``max(1, k // head_channels)`` heads. A block infers
``k`` from its input; only the layers that set a level's width (``conv_in``, ``downsample``,
``upsample``, the layout readout) are told it (``SpaceTimeUNet.forward(..., widths=...)``).
At full width every op is the unsliced module call, so the full network is unchanged bit for bit.

``subnet(unet, widths=..., skip=..., resolution=...)`` is such a subnetwork as a module (sharing
the supernet's weights, called like the UNet, so it can stand in for ``VideoDiffusion.unet`` in the
generator); ``materialize(...)`` builds the equivalent standalone UNet.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

if TYPE_CHECKING:
    from vbench_lite.methods.backbone.unet import SpaceTimeUNet, UNetConfig


# -- sliced ops ----------------------------------------------------------------------------------
def conv(m: nn.Conv1d | nn.Conv2d | nn.Conv3d, x: torch.Tensor, out: int | None = None) -> torch.Tensor:
    """``m`` on the leading ``x.shape[1]`` input and leading ``out`` (default: all) output channels."""
    cin, cout = x.shape[1], m.out_channels if out is None else out
    if cin == m.in_channels and cout == m.out_channels:
        return m(x)
    w = m.weight[:cout, :cin].contiguous()
    b = None if m.bias is None else m.bias[:cout].contiguous()
    return m._conv_forward(x, w, b)


def _rows(full: int, k: int, chunks: int) -> slice | torch.Tensor:
    if chunks == 1:
        return slice(0, k)
    return torch.cat([torch.arange(i * full, i * full + k) for i in range(chunks)])


def linear(m: nn.Linear, x: torch.Tensor, out: int | None = None, chunks: int = 1) -> torch.Tensor:
    """``m`` on the leading ``x.shape[-1]`` inputs; outputs: leading ``out`` of each of ``chunks``
    equal parts (default: all)."""
    full = m.out_features // chunks
    cin, cout = x.shape[-1], full if out is None else out
    if cin == m.in_features and cout == full:
        return m(x)
    rows = _rows(full, cout, chunks)
    w = m.weight[rows, :cin].contiguous()
    b = None if m.bias is None else m.bias[rows].contiguous()
    return F.linear(x, w, b)


def group_norm(m: nn.GroupNorm, x: torch.Tensor) -> torch.Tensor:
    """``m`` on the leading ``x.shape[1]`` channels, ``group_channels`` channels per group."""
    k = x.shape[1]
    if k == m.num_channels:
        return m(x)
    gc = m.num_channels // m.num_groups
    if k % gc:
        raise ValueError(f"width {k} is not a multiple of group_channels={gc}")
    w = None if m.weight is None else m.weight[:k].contiguous()
    b = None if m.bias is None else m.bias[:k].contiguous()
    return F.group_norm(x, k // gc, w, b, m.eps)


def heads_at(width: int, head_channels: int) -> int:
    """Attention heads of a layer of ``width`` channels (as a layer built at that width has)."""
    return max(1, width // head_channels)


# -- widths --------------------------------------------------------------------------------------
def scaled_widths(config: UNetConfig, multiplier: float) -> tuple[int, ...]:
    """Each level's width times ``multiplier``, rounded to a multiple of ``group_channels``."""
    gc = config.group_channels
    out = tuple(max(gc, int(round(w * multiplier / gc)) * gc) for w in config.widths)
    return tuple(min(o, w) for o, w in zip(out, config.widths))


def check_widths(config: UNetConfig, widths: Sequence[int]) -> tuple[int, ...]:
    widths = tuple(int(w) for w in widths)
    if len(widths) != len(config.widths):
        raise ValueError(f"widths needs one entry per level ({len(config.widths)}), got {widths}")
    for w, full in zip(widths, config.widths):
        if not 0 < w <= full or w % config.group_channels:
            raise ValueError(f"width {w} must be a positive multiple of group_channels={config.group_channels} "
                             f"and at most the supernet's {full}")
        heads = heads_at(w, config.head_channels)
        if w % heads:
            raise ValueError(f"width {w} does not split into {heads} attention heads")
    return widths


# -- standalone equivalents ----------------------------------------------------------------------
def sliced_config(config: UNetConfig, widths: Sequence[int], skip: Collection[str] = ()) -> UNetConfig:
    """The config of the standalone network a subnet computes (skipped blocks pruned)."""
    return replace(config, widths=check_widths(config, widths), pruned=(*config.pruned, *sorted(skip)))


def sliced_state_dict(unet: SpaceTimeUNet, target: nn.Module) -> dict[str, torch.Tensor]:
    """The supernet's leading-channel weights in the shapes of ``target``'s state dict."""
    state = unet.state_dict()
    out = {}
    for name, want in target.state_dict().items():
        src = state[name]
        owner, _, leaf = name.rpartition(".")
        chunks = 1
        if leaf in ("weight", "bias"):  # fused projections keep the leading channels of each chunk
            parent, _, child = owner.rpartition(".")
            chunks = getattr(unet.get_submodule(parent) if parent else unet, "FUSED", {}).get(child, 1)
        index: list[Any] = [slice(0, n) for n in want.shape]
        if chunks > 1:
            index[0] = _rows(src.shape[0] // chunks, want.shape[0] // chunks, chunks)
        out[name] = src[tuple(index)].clone()
    return out


def materialize(unet: SpaceTimeUNet, widths: Sequence[int], skip: Collection[str] = ()) -> SpaceTimeUNet:
    """A standalone UNet at ``widths`` without ``skip``, its weights copied from the supernet."""
    from vbench_lite.methods.backbone.unet import SpaceTimeUNet

    unet.check_skip(skip)
    small = SpaceTimeUNet(sliced_config(unet.config, widths, skip))
    small.load_state_dict(sliced_state_dict(unet, small))
    p = next(unet.parameters())
    return small.to(device=p.device, dtype=p.dtype).train(unet.training)


class SubNet(nn.Module):
    """A width-sliced, block-skipping subnetwork of a supernet UNet, sharing its weights.

    Called like the UNet (``subnet(x, t, text, text_keep, text_pooled, frame_index=None,
    return_features=())``). ``resolution``: the pixel resolution it generates; the latent input must
    match it. ``num_parameters()`` counts the weights the subnet uses (what ``describe()`` reports).
    """

    def __init__(self, unet: SpaceTimeUNet, widths: Sequence[int], skip: Collection[str] = (),
                 resolution: int | None = None) -> None:
        super().__init__()
        unet.check_skip(skip)
        self.unet = unet
        self.widths = check_widths(unet.config, widths)
        self.skip = tuple(sorted(skip))
        self.resolution = resolution
        self.config = sliced_config(unet.config, self.widths, self.skip)

    def num_parameters(self, skip: Collection[str] = ()) -> int:
        """Weights the subnet uses (less those of further skipped blocks)."""
        from vbench_lite.methods.backbone.unet import SpaceTimeUNet

        config = replace(self.config, pruned=(*self.config.pruned, *sorted(set(skip) - set(self.skip))))
        with torch.device("meta"):
            return sum(p.numel() for p in SpaceTimeUNet(config).parameters())

    def check_skip(self, skip: Collection[str]) -> None:
        self.unet.check_skip(skip)

    def forward(self, x: torch.Tensor, t: torch.Tensor, *text: torch.Tensor, **kwargs: Any) -> Any:
        if self.resolution is not None:
            from vbench_lite.methods.backbone.autoencoder import DOWNSCALE

            want = self.resolution // DOWNSCALE
            if tuple(x.shape[-2:]) != (want, want):
                raise ValueError(f"this subnet generates {self.resolution}px videos ({want}x{want} latents), "
                                 f"got latents {tuple(x.shape[-2:])}")
        skip = set(kwargs.pop("skip", ())) | set(self.skip)
        return self.unet(x, t, *text, skip=skip, widths=self.widths, **kwargs)


def subnet(unet: SpaceTimeUNet, widths: Sequence[int] | float = 1.0, skip: Collection[str] = (),
           resolution: int | None = None) -> SubNet:
    """The subnetwork at ``widths`` (per level, or one multiplier of every level's width), without
    the blocks in ``skip``, generating at ``resolution`` (pixels; any when ``None``)."""
    if isinstance(widths, (int, float)) and not isinstance(widths, bool):
        widths = scaled_widths(unet.config, float(widths))
    return SubNet(unet, widths, skip, resolution)
