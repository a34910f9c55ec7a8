"""The supernet training task: flow matching where each step trains the subnet(s) the
:class:`~vbench_lite.methods.sned.cost_sampling.SupernetSampler` draws, at its resolution, through
the shared weights (one optimiser: every subnet's gradient lands on the leading channels it uses).

``distill > 0`` is BigNAS's in-place distillation: a sampled subnet also regresses the largest
network's velocity on the same batch (no gradient into the target), weighted ``distill`` against
the flow-matching target. The trainer, EMA, checkpoints and resume are the backbone's.
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


class SupernetTask(FlowMatchingTask):
    name = "sned-supernet"

    def __init__(self, model: VideoDiffusion, clips: dict[int, LatentClips], recipe: FlowRecipe,
                 sampler: SupernetSampler, distill: float = 0.0) -> None:
        missing = sorted(set(sampler.space.resolutions) - set(clips))
        if missing:
            raise ValueError(f"no training latents at resolutions {missing} px")
        super().__init__(model, clips[32] if 32 in clips else next(iter(clips.values())), recipe)
        self.clips_at = clips
        self.ids_at = {r: model.tokenize(c.prompts) for r, c in clips.items()}
        self.sampler = sampler
        self.distill = float(distill)

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
        largest = self.sampler.space.largest(arch.resolution)
        if self.distill > 0 and arch != largest:
            with torch.no_grad():
                target = self.model.unet(xt, batch.t, *text)
            loss = (1 - self.distill) * loss + self.distill * F.mse_loss(v, target)
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
                       "clips": {str(r): {"key": c.key, "num": len(c.latents)} for r, c in self.clips_at.items()}}
        return cfg
