"""TPDiff training recipe: ``python -m vbench_lite train --method tpdiff[:no-align]``.

The baseline's data (the same cached ``train`` latents), UNet, optimiser hyper-parameters and
number of optimiser steps (the backbone's default recipe, :mod:`vbench_lite.methods.backbone.recipe`);
only the objective differs (:mod:`.task`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from vbench_lite.methods.backbone.recipe import DEFAULT_STEPS, SAMPLER, train_flow_method
from vbench_lite.methods.tpdiff import STAGES, TPDiffMethod, weights_dir
from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule
from vbench_lite.methods.tpdiff.sampler import pyramid_samplers
from vbench_lite.methods.tpdiff.task import TPDiffTask


def train_tpdiff(
    steps: int | None = None, seed: int = 0, out: str | Path | None = None, variant: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Train (resuming), then export the EMA weights (default: the shipped folder of ``variant``)."""
    if variant not in (None, "no-align"):
        raise ValueError(f"tpdiff has no trainable variant {variant!r}; use tpdiff or tpdiff:no-align")
    align = variant is None
    steps = steps or DEFAULT_STEPS
    full = "tpdiff" if align else "tpdiff:no-align"
    make_task = partial(_task, align=align)
    return train_flow_method(
        full.replace(":", "-"), make_task, out=out or weights_dir(variant), steps=steps, seed=seed, title=full,
        command=f"{TPDiffMethod.train_command}{'' if align else ':no-align'} --steps {steps} --seed {seed}",
        sampler=pyramid_samplers(PyramidSchedule(STAGES), SAMPLER.steps, cfg_scale=SAMPLER.cfg_scale),
        extra_config={"pyramid": {"stages": STAGES, "align": align}}, **kwargs,
    )


def _task(model: Any, clips: Any, recipe: Any, *, align: bool) -> TPDiffTask:
    return TPDiffTask(model, clips, recipe, PyramidSchedule(STAGES), align=align)
