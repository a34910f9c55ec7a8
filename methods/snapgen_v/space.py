"""SnapGen-V's search space on the backbone UNet (Wu et al., arXiv 2412.10494, Sec. 3.2).

One gene per slot of the UNet (``down.<level>.<j>``, ``up.<level>.<j>``: a ResBlock, its temporal
layer and, at levels with text, its cross-attention) and one for the middle ResBlock (``mid``):

- a slot's gene is its temporal layer type (``conv1d``, ``attn1d``, ``conv3d``, ``none``, from
  :data:`~vbench_lite.methods.backbone.layers.TEMPORAL_TYPES`) or ``drop`` (the whole slot removed,
  its spatial ResBlock included);
- the middle's gene is ``keep`` or ``drop``.

Why ``drop``: the paper searches temporal layers on an already compact image backbone. On this
backbone the temporal layers alone cannot meet the issue's budget: the baseline with every temporal
layer removed still costs 81% of its denoiser latency (measured side by side, 1 thread, 16 videos),
so the search also decides where the spatial slots sit (which of them remain), in the same table.

A candidate inherits every baseline weight whose name and shape match (:func:`inherit`): kept
slots keep their ResBlocks and cross-attention, a temporal layer of the baseline's type at the same
place keeps its weights, any other type starts as the identity (its last projection is zero).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vbench_lite.methods.backbone.layers import TEMPORAL_TYPES
from vbench_lite.methods.backbone.unet import UNetConfig

DROP = "drop"
SLOT_CHOICES: tuple[str, ...] = (*TEMPORAL_TYPES, DROP)
MID_CHOICES: tuple[str, ...] = ("keep", DROP)


def slots(config: UNetConfig) -> list[str]:
    """Slot genes of ``config`` in execution order (down levels, then up levels deepest first)."""
    down = [f"down.{i}.{j}" for i, n in enumerate(config.blocks) for j in range(n)]
    up = [f"up.{i}.{j}" for i in reversed(range(len(config.blocks))) for j in range(config.blocks[i])]
    return [*down, *up]


def search_space(config: UNetConfig) -> dict[str, tuple[str, ...]]:
    """Gene -> choices for ``config`` (the middle gene only where it has one ResBlock)."""
    space = {s: SLOT_CHOICES for s in slots(config)}
    if config.mid_blocks == 1:
        space["mid"] = MID_CHOICES
    return space


def genes_of(config: UNetConfig) -> dict[str, str]:
    """The genes that describe ``config`` itself (the baseline: its own temporal types, nothing dropped)."""
    pruned = set(config.pruned)
    out = {}
    for s in slots(config):
        side, i, j = s.split(".")
        out[s] = DROP if f"{side}.{i}.res.{j}" in pruned else config.temporal_type(f"{side}.{i}.temporal.{j}")
    if config.mid_blocks == 1:
        out["mid"] = DROP if "mid.res.0" in pruned else "keep"
    return out


def candidate_config(base: UNetConfig, genes: Mapping[str, str]) -> UNetConfig:
    """The UNet of ``genes`` on ``base``: temporal types set per slot, dropped slots pruned."""
    from dataclasses import replace

    if set(genes) != set(search_space(base)):
        raise ValueError(f"genes must name exactly {sorted(search_space(base))}, got {sorted(genes)}")
    types, pruned = {}, []
    for s in slots(base):
        side, i, j = s.split(".")
        kind = genes[s]
        if kind not in SLOT_CHOICES:
            raise ValueError(f"gene {s}={kind!r} is not one of {', '.join(SLOT_CHOICES)}")
        types[f"{side}.{i}.temporal.{j}"] = "none" if kind == DROP else kind
        if kind == DROP:
            pruned += [f"{side}.{i}.res.{j}", f"{side}.{i}.temporal.{j}"]
            if base.cross_attention[int(i)]:
                pruned.append(f"{side}.{i}.xattn.{j}")
    if genes.get("mid") == DROP:
        pruned.append("mid.res.0")
    return replace(base.with_temporal(types), pruned=tuple(pruned))


def describe_genes(genes: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in genes.items())


def inherit(student: Any, teacher: Any) -> list[str]:
    """Copy into ``student`` every tensor of ``teacher`` with the same name and shape (both
    ``nn.Module``); returns the student's tensor names that kept their fresh initialisation."""
    import torch

    src = teacher.state_dict()
    own = student.state_dict()
    fresh = [k for k, v in own.items() if k not in src or src[k].shape != v.shape]
    with torch.no_grad():
        student.load_state_dict({k: src[k] if k not in fresh else v for k, v in own.items()})
    return fresh


def is_temporal_parameter(name: str) -> bool:
    """A parameter of a temporal layer (``unet.down.1.temporal.0.qkv.weight``): what the search trains."""
    return ".temporal." in name
