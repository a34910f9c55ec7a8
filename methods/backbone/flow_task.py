"""The flow-matching denoiser :class:`TrainingTask` on cached latent clips.

Methods adapt it by overriding one hook instead of copying the loop: ``sample_batch`` (e.g. TPDiff:
other frame counts per stage), ``denoiser_loss`` (e.g. SNED: a subnet per step, or distillation
targets) or ``train_step`` (e.g. SnapGen-V: an adversarial discriminator update alongside).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from vbench_lite.methods.backbone.flow import interpolate, sample_train_t, velocity_target
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.trainer import OptimizerConfig, StepContext, TrainingTask


@dataclass
class FlowBatch:
    x0: torch.Tensor  # [B, C, T, h, w] clean latents
    ids: torch.Tensor  # [B, L] caption tokens (dropped captions replaced by the empty caption)
    t: torch.Tensor  # [B] flow-matching time in (0, 1)
    eps: torch.Tensor  # [B, C, T, h, w] noise
    frame_index: torch.Tensor | None = None  # [T] or [B, T] absolute frame indices


@dataclass(frozen=True)
class FlowRecipe:
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    caption_dropout: float = 0.1  # classifier-free guidance training (Ho & Salimans 2022)
    t_mean: float = 0.0  # logit-normal timestep sampling (SD3)
    t_std: float = 1.0
    text_lr_scale: float = 1.0  # caption encoder's lr multiplier (0 keeps it at its random init)


class FlowMatchingTask(TrainingTask):
    name = "flow-matching"
    ema_models = ("model",)

    def __init__(self, model: VideoDiffusion, clips: LatentClips, recipe: FlowRecipe) -> None:
        self.model = model
        self.clips = clips
        self.recipe = recipe
        self.ids = model.tokenize(clips.prompts)
        self.null = model.null_ids(1)[0]

    def models(self) -> dict[str, torch.nn.Module]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, OptimizerConfig]:
        r = self.recipe
        return {"model": OptimizerConfig(("model",), lr=r.lr, weight_decay=r.weight_decay,
                                         warmup_steps=r.warmup_steps, grad_clip=r.grad_clip,
                                         lr_scale=(("model.text_encoder.", r.text_lr_scale),))}

    def batch(self, step: int, generator: torch.Generator) -> FlowBatch:
        return self.sample_batch(generator)

    def sample_batch(self, generator: torch.Generator) -> FlowBatch:
        r = self.recipe
        idx = torch.randint(len(self.clips.latents), (r.batch_size,), generator=generator)
        x0 = self.clips.latents[idx]
        ids = self.ids[idx].clone()
        drop = torch.rand(r.batch_size, generator=generator) < r.caption_dropout
        ids[drop] = self.null
        t = sample_train_t(r.batch_size, generator, r.t_mean, r.t_std)
        eps = torch.randn(x0.shape, generator=generator)
        return FlowBatch(x0, ids, t, eps)

    def denoiser_loss(self, batch: FlowBatch, ctx: StepContext) -> torch.Tensor:
        """MSE between predicted and true velocity ``eps - x0`` at ``x_t = (1 - t) x0 + t eps``."""
        xt = interpolate(batch.x0, batch.eps, batch.t)
        text = self.model.encode_text(batch.ids)
        v = self.model.velocity(xt, batch.t, text, batch.frame_index)
        return F.mse_loss(v, velocity_target(batch.x0, batch.eps))

    def train_step(self, ctx: StepContext, batch: FlowBatch) -> dict[str, float]:
        ctx.update("model", self.denoiser_loss(batch, ctx))
        return {}

    def batch_examples(self, batch: FlowBatch) -> int:
        return int(batch.x0.shape[0])

    def flops_key(self, batch: FlowBatch) -> Any:
        return tuple(batch.x0.shape)

    def config(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"task": self.name, "recipe": asdict(self.recipe), "model": self.model.config_dict(),
                "clips_key": self.clips.key, "autoencoder_sha256": self.clips.autoencoder_sha256, "num_clips": len(self.clips.latents)}
