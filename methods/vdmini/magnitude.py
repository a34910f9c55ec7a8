"""The magnitude-pruning baseline of the VDMini paper's ablation: L1-norm channel pruning
(Li et al. 2017, "Pruning Filters for Efficient ConvNets") of the teacher to a parameter budget.

The UNet's levels each have one channel width shared by every block (residual additions and the
additive skip connections), so a channel is removed from a whole level at once: from every conv,
linear and GroupNorm of that level, and from the inputs or outputs of the down/upsampling convs.
A channel's magnitude is the mean absolute weight of the output filters that write it (averaged
over those layers). Channels go one GroupNorm group (``group_channels``) at a time, from the level
whose next group has the lowest mean magnitude, until the UNet reaches the target number of
parameters (whichever of the counts just above and just below it is nearer); the survivors keep
the teacher's weights.

Which parameter dimension is which level's channel axis is read off the architecture itself:
widening one level by one group changes exactly the dimensions that are that level's channels
(by ``chunks`` groups, for fused projections such as FiLM's scale/shift or attention's q/k/v).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import torch

from vbench_lite.methods.backbone.unet import SpaceTimeUNet, UNetConfig

Axis = tuple[int, int, int]  # (dimension, level, chunks)


def _shapes(config: UNetConfig) -> dict[str, torch.Size]:
    with torch.device("meta"):
        return {k: v.shape for k, v in SpaceTimeUNet(config).state_dict().items()}


def unet_parameters(config: UNetConfig) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in SpaceTimeUNet(config).parameters())


def channel_axes(config: UNetConfig) -> dict[str, list[Axis]]:
    """Parameter name -> every ``(dim, level, chunks)`` that indexes that level's channels."""
    base = _shapes(config)
    g = config.group_channels
    axes: dict[str, list[Axis]] = {k: [] for k in base}
    for level in range(len(config.widths)):
        widths = list(config.widths)
        widths[level] += g
        wider = _shapes(replace(config, widths=tuple(widths)))
        for name, shape in base.items():
            for dim, (a, b) in enumerate(zip(shape, wider[name])):
                if a != b:
                    if (b - a) % g:
                        raise ValueError(f"{name} dim {dim} does not scale with level {level}'s width")
                    axes[name].append((dim, level, (b - a) // g))
    return axes


def channel_magnitudes(unet: SpaceTimeUNet) -> list[torch.Tensor]:
    """Per level, ``[width]``: mean |w| of the output filters writing each channel, over those layers."""
    axes = channel_axes(unet.config)
    widths = unet.config.widths
    sums = [torch.zeros(w, dtype=torch.float64) for w in widths]
    counts = [0] * len(widths)
    for name, p in unet.named_parameters():
        if p.dim() < 2:
            continue  # biases and norms: not filters
        for dim, level, chunks in axes[name]:
            if dim != 0:
                continue
            w = widths[level]
            per = p.detach().abs().double().reshape(chunks, w, -1).mean(dim=(0, 2))
            sums[level] += per
            counts[level] += 1
    return [s / max(c, 1) for s, c in zip(sums, counts)]


def _heads_ok(config: UNetConfig, width: int) -> bool:
    heads = max(1, width // config.head_channels)
    return width % heads == 0


def magnitude_widths(unet: SpaceTimeUNet, target_params: int) -> tuple[tuple[int, ...], list[torch.Tensor]]:
    """Widths after greedy group-wise L1 pruning to the parameter count nearest ``target_params``
    (the last group removed or not, whichever lands closer), and the kept channel indices per level
    (ascending)."""
    cfg = unet.config
    g = cfg.group_channels
    mags = channel_magnitudes(unet)
    order = [torch.argsort(m) for m in mags]  # weakest first
    removed = [0] * len(cfg.widths)
    widths = list(cfg.widths)
    count = unet_parameters(cfg)
    before = (count, list(widths), list(removed))
    while count > target_params:
        before = (count, list(widths), list(removed))
        best = None
        for level, w in enumerate(widths):
            if w - g < g or not _heads_ok(cfg, w - g):
                continue
            group = order[level][removed[level]: removed[level] + g]
            score = float(mags[level][group].mean())
            if best is None or score < best[0]:
                best = (score, level)
        if best is None:
            raise ValueError(f"cannot prune channels down to {target_params} parameters: every level is at its minimum")
        removed[best[1]] += g
        widths[best[1]] -= g
        count = unet_parameters(replace(cfg, widths=tuple(widths)))
    if before[0] - target_params < target_params - count:  # the last group overshot by more
        _, widths, removed = before
    keep = [torch.sort(order[i][removed[i]:]).values for i in range(len(widths))]
    return tuple(widths), keep


def select_channels(unet: SpaceTimeUNet, keep: list[torch.Tensor]) -> SpaceTimeUNet:
    """A new UNet whose level ``i`` has the channels ``keep[i]`` of ``unet``, weights copied."""
    cfg = unet.config
    widths = tuple(len(k) for k in keep)
    axes = channel_axes(cfg)
    student = SpaceTimeUNet(replace(cfg, widths=widths))
    state = {}
    for name, v in unet.state_dict().items():
        for dim, level, chunks in axes[name]:
            w = cfg.widths[level]
            idx = torch.cat([keep[level] + m * w for m in range(chunks)])
            v = v.index_select(dim, idx)
        state[name] = v
    student.load_state_dict(state, strict=True)
    p = next(unet.parameters())
    return student.to(device=p.device, dtype=p.dtype).train(unet.training)


def magnitude_prune_model(model: Any, target_params: int) -> tuple[Any, tuple[int, ...]]:
    """A copy of ``model`` whose UNet is L1-magnitude channel-pruned to ``target_params``."""
    widths, keep = magnitude_widths(model.unet, target_params)
    student = copy.deepcopy(model)
    student.unet = select_channels(model.unet, keep)
    return student, widths
