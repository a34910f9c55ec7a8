"""The supernet training task: flow matching where each step trains the subnet(s) the
:class:`~vbench_lite.methods.sned.cost_sampling.SupernetSampler` draws, at its resolution, through
the shared weights (one optimiser: every subnet's gradient lands on the leading channels it uses).

Two distillation options (at most one at a time), each mixing a velocity target into the
flow-matching loss as ``(1 - d) * flow + d * MSE(v_student, v_target)`` on the same ``x_t``, ``t``
and caption, with no gradient into the target:

- ``distill = d`` is BigNAS's in-place distillation (Yu et al. 2020): a sampled subnet regresses the
  *current* largest network's velocity (the largest itself trains on flow matching alone).
- ``teacher_distill = d`` with a frozen ``teacher`` follows once-for-all (Cai et al. 2020, sec. 3.2:
  the full network is trained first and then serves, frozen, as the knowledge-distillation teacher
  of every sampled subnet). Here the teacher is the network the supernet is initialised from (the
  trained ``baseline``), and every architecture, the largest included, regresses it. SNED's own
  training objective is not public (only the abstract is), so this is the OFA practice, not the
  paper's. The anchor keeps the shared weights from drifting away from the network they start
  from, which the plain flow-matching supernet did (its full network ended worse than the baseline).
  :class:`TeacherDistillTask` is the same loss for one standalone network, so a comparison with the
  supernet changes weight sharing only.

The trainer, EMA, checkpoints and resume are the backbone's; the teacher is not a trained model (it
is neither optimised nor checkpointed: every run rebuilds it from the same shipped weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from vbench_lite.methods.backbone.flow import interpolate, velocity_target
from vbench_lite.methods.backbone.flow_task import FlowBatch, FlowMatchingTask, FlowRecipe
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.slicing import subnet
from vbench_lite.methods.backbone.trainer import StepContext
from vbench_lite.methods.sned.cost_sampling import StepDraw, SupernetSampler
from vbench_lite.methods.sned.search_space import SubnetArch


@dataclass
class SupernetBatch:
    draw: StepDraw
    batches: tuple[FlowBatch, ...]  # one per architecture, at its resolution


def _check_weight(name: str, d: float) -> float:
    d = float(d)
    if not 0.0 <= d <= 1.0:
        raise ValueError(f"{name} must be in [0, 1] (the distillation target's share of the loss), got {d}")
    return d


def frozen(teacher: VideoDiffusion) -> VideoDiffusion:
    """``teacher`` in eval mode with no parameter requiring a gradient."""
    return teacher.eval().requires_grad_(False)


def teacher_velocity(teacher: VideoDiffusion, xt: torch.Tensor, t: torch.Tensor, ids: torch.Tensor,
                     frame_index: torch.Tensor | None = None) -> torch.Tensor:
    """The frozen teacher's velocity at ``(x_t, t)`` for captions ``ids`` (its own caption encoder)."""
    with torch.no_grad():
        return teacher.velocity(xt, t, teacher.encode_text(ids), frame_index)


def mix(flow: torch.Tensor, v: torch.Tensor, target: torch.Tensor, d: float) -> torch.Tensor:
    """``(1 - d) * flow + d * MSE(v, target)``: ``target`` is detached (no gradient reaches it)."""
    return (1 - d) * flow + d * F.mse_loss(v, target.detach())


class TeacherDistillTask(FlowMatchingTask):
    """Flow matching of one network with the frozen ``teacher``'s velocity mixed in (weight
    ``teacher_distill``): the standalone comparison run trained with the supernet's loss."""

    name = "flow-matching-teacher-kd"

    def __init__(self, model: VideoDiffusion, teacher: VideoDiffusion, clips: LatentClips, recipe: FlowRecipe,
                 teacher_distill: float) -> None:
        super().__init__(model, clips, recipe)
        self.teacher = frozen(teacher)
        self.teacher_distill = _check_weight("teacher_distill", teacher_distill)

    def denoiser_loss(self, batch: FlowBatch, ctx: StepContext) -> torch.Tensor:
        xt = interpolate(batch.x0, batch.eps, batch.t)
        v = self.model.velocity(xt, batch.t, self.model.encode_text(batch.ids), batch.frame_index)
        flow = F.mse_loss(v, velocity_target(batch.x0, batch.eps))
        target = teacher_velocity(self.teacher, xt, batch.t, batch.ids, batch.frame_index)
        return mix(flow, v, target, self.teacher_distill)

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg["teacher_distill"] = self.teacher_distill
        return cfg


class SupernetTask(FlowMatchingTask):
    name = "sned-supernet"

    def __init__(self, model: VideoDiffusion, clips: dict[int, LatentClips], recipe: FlowRecipe,
                 sampler: SupernetSampler, distill: float = 0.0, teacher: VideoDiffusion | None = None,
                 teacher_distill: float = 0.0) -> None:
        self.distill = _check_weight("distill", distill)
        self.teacher_distill = _check_weight("teacher_distill", teacher_distill)
        if self.distill > 0 and self.teacher_distill > 0:
            raise ValueError("choose one distillation target: distill (BigNAS in-place, the current largest "
                             "network) or teacher_distill (OFA, a frozen teacher), not both")
        if self.teacher_distill > 0 and teacher is None:
            raise ValueError("teacher_distill > 0 needs the frozen teacher network (teacher=...)")
        self.teacher = frozen(teacher) if teacher is not None else None
        missing = sorted(set(sampler.space.resolutions) - set(clips))
        if missing:
            raise ValueError(f"no training latents at resolutions {missing} px")
        super().__init__(model, clips[32] if 32 in clips else next(iter(clips.values())), recipe)
        self.clips_at = clips
        self.ids_at = {r: model.tokenize(c.prompts) for r, c in clips.items()}
        self.sampler = sampler

    def _flow_batch(self, resolution: int, generator: torch.Generator) -> FlowBatch:
        home = self.clips, self.ids  # sample_batch reads self.clips / self.ids: point them at this resolution
        self.clips, self.ids = self.clips_at[resolution], self.ids_at[resolution]
        try:
            return self.sample_batch(generator)
        finally:
            self.clips, self.ids = home

    def batch(self, step: int, generator: torch.Generator) -> SupernetBatch:
        draw = self.sampler.draw(step, generator)
        return SupernetBatch(draw, tuple(self._flow_batch(a.resolution, generator) for a in draw.archs))

    def arch_loss(self, arch: SubnetArch, batch: FlowBatch) -> torch.Tensor:
        xt = interpolate(batch.x0, batch.eps, batch.t)
        text = self.model.encode_text(batch.ids)
        net = subnet(self.model.unet, arch.widths, arch.skip, arch.resolution)
        v = net(xt, batch.t, *text)
        loss = F.mse_loss(v, velocity_target(batch.x0, batch.eps))
        if self.teacher_distill > 0:  # OFA: every architecture, the largest included
            assert self.teacher is not None
            return mix(loss, v, teacher_velocity(self.teacher, xt, batch.t, batch.ids), self.teacher_distill)
        largest = self.sampler.space.largest(arch.resolution)
        if self.distill > 0 and arch != largest:  # BigNAS in-place: the current largest network
            with torch.no_grad():
                target = self.model.unet(xt, batch.t, *text)
            loss = mix(loss, v, target, self.distill)
        return loss

    def train_step(self, ctx: StepContext, batch: SupernetBatch) -> dict[str, float]:
        losses = [self.arch_loss(a, b) for a, b in zip(batch.draw.archs, batch.batches)]
        ctx.update("model", torch.stack(losses).sum())
        # What each step trained is not logged: the draw is the first use of the step's generator,
        # so :func:`vbench_lite.methods.sned.recipe.replay_draws` recomputes it exactly.
        return {}

    def batch_examples(self, batch: SupernetBatch) -> int:
        return sum(int(b.x0.shape[0]) for b in batch.batches)

    def flops_key(self, batch: SupernetBatch) -> Any:
        return tuple((a.widths, a.skip, a.resolution) for a in batch.draw.archs)

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg["sned"] = {"sampler": self.sampler.config(), "distill": self.distill,
                       "teacher_distill": self.teacher_distill,
                       "clips": {str(r): {"key": c.key, "num": len(c.latents)} for r, c in self.clips_at.items()}}
        return cfg
