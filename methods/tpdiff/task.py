"""TPDiff training: the shared flow-matching task with the stage sampled uniformly per example.

Each example draws a stage ``k`` uniformly (stratified per batch) and a time inside it (the baseline's logit-normal
draw mapped onto ``[e_k, s_k]``); its target is the stage-local velocity
``x_hat_start - x_hat_end`` at ``T / 2**k`` frames with absolute frame positions ``n * 2**k``,
and the model is conditioned on the global t. Examples of one stage run as one forward call.
With alignment (Immiscible Diffusion), each stage group's noise is reassigned to its videos by a
linear assignment on pairwise distances at the stage's frame count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vbench_lite.methods.backbone.flow import sample_train_t
from vbench_lite.methods.backbone.flow_task import FlowMatchingTask, FlowRecipe
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.trainer import StepContext
from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule, align_noise, down, stage_training_pair


@dataclass
class PyramidGroup:
    stage: int
    x0: torch.Tensor  # [n, C, T, h, w] full-rate clean latents
    ids: torch.Tensor  # [n, L]
    t: torch.Tensor  # [n] global times inside the stage
    eps: torch.Tensor  # [n, C, T / 2**k, h, w] noise (aligned when enabled)


@dataclass
class PyramidBatch:
    groups: list[PyramidGroup]
    size: int


def stratified_stages(n: int, num_stages: int, generator: torch.Generator) -> torch.Tensor:
    """Each example's stage is uniform over ``range(num_stages)``, drawn stratified per batch.

    A random permutation of a balanced assignment (a random stage takes the remainder), so every
    example's marginal is uniform as TPDiff prescribes, the gradient variance is lower, and a
    batch's cost (its stage composition) takes only ``num_stages`` values.
    """
    offset = int(torch.randint(num_stages, (1,), generator=generator))
    balanced = (torch.arange(n) + offset) % num_stages
    return balanced[torch.randperm(n, generator=generator)]


class TPDiffTask(FlowMatchingTask):
    name = "tpdiff"

    def __init__(
        self, model: VideoDiffusion, clips: LatentClips, recipe: FlowRecipe,
        schedule: PyramidSchedule | None = None, align: bool = True,
    ) -> None:
        super().__init__(model, clips, recipe)
        self.schedule = schedule or PyramidSchedule(3)
        self.align = align

    def batch(self, step: int, generator: torch.Generator) -> PyramidBatch:
        r, sched = self.recipe, self.schedule
        idx = torch.randint(len(self.clips.latents), (r.batch_size,), generator=generator)
        ids = self.ids[idx].clone()
        drop = torch.rand(r.batch_size, generator=generator) < r.caption_dropout
        ids[drop] = self.null
        stages = stratified_stages(r.batch_size, sched.num_stages, generator)
        tp = sample_train_t(r.batch_size, generator, r.t_mean, r.t_std)  # stage-local t' in (0, 1)
        groups = []
        for k in range(sched.num_stages - 1, -1, -1):
            sel = (stages == k).nonzero().flatten()
            if len(sel) == 0:
                continue
            x0 = self.clips.latents[idx[sel]]
            e, s = sched.end(k), sched.start(k)
            t = e + tp[sel] * (s - e)
            shape = (len(sel), x0.shape[1], x0.shape[2] // sched.factor(k), *x0.shape[3:])
            eps = torch.randn(shape, generator=generator)
            if self.align:
                eps, _ = align_noise(down(x0, sched.factor(k)), eps)
            groups.append(PyramidGroup(k, x0, ids[sel], t, eps))
        return PyramidBatch(groups, r.batch_size)

    def denoiser_loss(self, batch: PyramidBatch, ctx: StepContext) -> torch.Tensor:  # type: ignore[override]
        """Mean over examples of each example's velocity MSE (stage groups run separately)."""
        total = torch.zeros(())
        frames = self.clips.latents.shape[2]
        for g in batch.groups:
            xt, target = stage_training_pair(g.x0, g.eps, g.t, g.stage, self.schedule)
            text = self.model.encode_text(g.ids)
            positions = self.schedule.frame_positions(g.stage, frames)
            v = self.model.velocity(xt, g.t, text, positions)
            total = total + ((v - target) ** 2).flatten(1).mean(1).sum()
        return total / batch.size

    def batch_examples(self, batch: PyramidBatch) -> int:  # type: ignore[override]
        return batch.size

    def flops_key(self, batch: PyramidBatch) -> Any:  # type: ignore[override]
        # Cost depends on how many examples fall in each stage (frame counts differ).
        return tuple((g.stage, len(g.x0)) for g in batch.groups)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "task": self.name, "stages": self.schedule.num_stages, "align": self.align}
