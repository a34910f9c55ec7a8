"""Physical pruning of named UNet blocks: ``prune(unet, blocks)`` builds a smaller
:class:`~vbench_lite.methods.backbone.unet.SpaceTimeUNet` in which those blocks do not exist
(``UNetConfig.pruned``) and copies every remaining weight by name from the teacher.

Every ``res``/``temporal``/``xattn`` block is residual and shape-preserving, so the pruned network
computes exactly what the teacher computes with those blocks skipped (the skip connections still
carry the same activations), with the removed blocks' parameters and FLOPs gone: the starting
point of a depth-pruned student such as VDMini's (Wu et al. 2025) before it is distilled.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import replace

from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.unet import SpaceTimeUNet


def prune(unet: SpaceTimeUNet, blocks: Collection[str]) -> SpaceTimeUNet:
    """A new UNet without ``blocks`` (names from ``unet.skippable_blocks()``), weights copied by name."""
    blocks = set(blocks)
    unet.check_skip(blocks)
    order = [n for n in unet.skippable_blocks() if n in blocks]
    student = SpaceTimeUNet(replace(unet.config, pruned=(*unet.config.pruned, *order)))
    teacher = unet.state_dict()
    student.load_state_dict({k: teacher[k] for k in student.state_dict()}, strict=True)
    student.skipped = set(unet.skipped) - blocks
    p = next(unet.parameters())
    return student.to(device=p.device, dtype=p.dtype).train(unet.training)


def prune_model(model: VideoDiffusion, blocks: Collection[str]) -> VideoDiffusion:
    """A copy of ``model`` (caption encoder included) whose UNet is ``prune(model.unet, blocks)``."""
    student = copy.deepcopy(model)
    student.unet = prune(model.unet, blocks)
    return student
