"""The baseline's training recipe: ``python -m vbench_lite train --method baseline [--steps N]``.

Plain flow matching (:class:`~vbench_lite.methods.backbone.flow_task.FlowMatchingTask`) on cached
latents of ``train``-split clips, with the backbone's default recipe
(:mod:`vbench_lite.methods.backbone.recipe`); the EMA weights are exported as the package data of
the ``baseline`` method.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbench_lite.methods.backbone.flow_task import FlowMatchingTask
from vbench_lite.methods.backbone.recipe import DEFAULT_STEPS, train_flow_method
from vbench_lite.methods.baseline import WEIGHTS_DIR, BaselineMethod


def train_baseline(
    steps: int | None = None, seed: int = 0, out: str | Path | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Train (resuming), then export the EMA weights to ``out`` (default: the shipped folder)."""
    steps = steps or DEFAULT_STEPS
    return train_flow_method(
        "baseline", FlowMatchingTask, out=out or WEIGHTS_DIR, steps=steps, seed=seed,
        command=f"{BaselineMethod.train_command} --steps {steps} --seed {seed}", **kwargs,
    )
