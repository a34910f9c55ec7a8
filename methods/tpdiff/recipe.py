"""TPDiff training recipe: ``python -m vbench_lite train --method tpdiff[:no-align]``.

The baseline's data (the same cached ``train`` latents), UNet, optimiser hyper-parameters and
number of optimiser steps; only the objective differs (:mod:`.task`). The EMA weights of the final
checkpoint are exported (fp16 storage) as package data beside a training summary.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vbench_lite.methods.backbone.flow_task import FlowRecipe
from vbench_lite.methods.backbone.unet import UNetConfig
from vbench_lite.methods.baseline import recipe as base

logger = logging.getLogger(__name__)

WEIGHTS_ROOT = Path(__file__).resolve().parent / "weights"
TRAIN_COMMAND = "python -m vbench_lite train --method tpdiff"
STAGES = 3


def weights_dir(variant: str | None) -> Path:
    return WEIGHTS_ROOT / (variant or "align")


def train_tpdiff(
    steps: int = base.DEFAULT_STEPS, seed: int = 0, out: str | Path | None = None, variant: str | None = None,
    run_dir: str | Path | None = None, time_budget_s: float | None = None, checkpoint_every: int = 200,
    num_clips: int = base.NUM_CLIPS, unet: UNetConfig = base.UNET, recipe: FlowRecipe = base.RECIPE,
    autoencoder_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train (resuming from ``run_dir``), then export the EMA weights; returns a summary."""
    import torch

    from vbench_lite.fsutil import cache_dir
    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.latents import encoded_clips
    from vbench_lite.methods.backbone.model import VideoDiffusion
    from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer
    from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule
    from vbench_lite.methods.tpdiff.task import TPDiffTask

    if variant not in (None, "no-align"):
        raise ValueError(f"tpdiff has no trainable variant {variant!r}; use tpdiff or tpdiff:no-align")
    align = variant is None
    torch.manual_seed(seed)
    ae, ae_sha = load_autoencoder(autoencoder_dir)
    clips = encoded_clips(ae, ae_sha, num_clips)
    task = TPDiffTask(VideoDiffusion(unet), clips, recipe, PyramidSchedule(STAGES), align=align)
    name = "tpdiff" if align else "tpdiff-no-align"
    run_dir = Path(run_dir) if run_dir else cache_dir("runs", name, f"seed{seed}")
    cfg = TrainConfig(steps=steps, seed=seed, log_every=20, checkpoint_every=checkpoint_every,
                      ema_decay=0.998, time_budget_s=time_budget_s)
    last = Trainer(task, cfg, run_dir).run()
    command = f"{TRAIN_COMMAND}{'' if align else ':no-align'} --steps {steps} --seed {seed}"
    return base.export_checkpoint(
        last, out or weights_dir(variant), seed=seed, requested_steps=steps, title=f"tpdiff{'' if align else ':no-align'}",
        command=command, extra_config={"pyramid": {"stages": STAGES, "align": align}},
    )
