"""VDMini step 3: fine-tuning the pruned student (Wu et al., arXiv 2411.18375, Sec. 3.3, Eq. 7).

    L = L_task + lambda_ICD L_ICD + lambda_MCA L_MCA,   lambda_ICD = 0.1, lambda_MCA = 1.0

- ``L_task``: the flow-matching loss of the backbone (velocity MSE at ``x_t = (1 - t) x0 + t eps``);
- ``L_ICD`` (:mod:`.icd`): per-frame L2 between the student's and the frozen teacher's stage
  outputs for the same ``x_t``, ``t`` and caption;
- ``L_MCA`` (:mod:`.mca`): the multi-frame content adversarial loss, with the discriminator
  updated first on the same step (teacher's clean prediction real, student's fake), each player's
  loss built inside the trainer's ``ctx.only`` so neither step builds a graph into the other's
  parameters.

MCA balance (``ICMDWeights.mca_balance``). At the paper's weights taken literally (``"none"``) the
adversarial gradient swamped the task's here: the student's total gradient norm grew from 6 to 60-80
over 1060 steps against 0.4 for the task loss alone, so after clipping to 1 the task term moved the
student by well under 1% of each step, and FVD worsened from step 200 on (253 to 429). ``"adaptive"``
(the default) multiplies the MCA term, still at weight 1.0, by VQGAN's adaptive weight
(:func:`~vbench_lite.methods.backbone.discriminator.adaptive_weight`: the ratio of the task's and the
adversarial gradient norms at the UNet's output layer), so the two terms pull with equal strength
there whatever the discriminator's scale. The paper (no public code) does not say how it scales the
term; SF-V-style discriminators on a 1.5B SVD UNet need not have this problem.

The caption encoder is the teacher's, frozen (the paper prunes and tunes the UNet only), so one
text encoding serves both networks. Batches are the backbone's flow-matching batches
(:class:`FlowMatchingTask`), so every variant sees the same data for a given seed and step.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch.nn import functional as F

from vbench_lite.methods.backbone.discriminator import adaptive_weight
from vbench_lite.methods.backbone.flow import interpolate, velocity_target
from vbench_lite.methods.backbone.flow_task import FlowBatch, FlowMatchingTask, FlowRecipe
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.trainer import OptimizerConfig, StepContext, TrainingTask
from vbench_lite.methods.vdmini.icd import icd_loss, matched_taps


@dataclass(frozen=True)
class ICMDWeights:
    """Loss weights of Eq. 7 (the paper's: ICD 0.1, MCA 1.0); a zero weight drops that term.
    ``mca_balance``: ``"adaptive"`` scales the MCA term by the adaptive weight (see the module
    docstring), ``"none"`` uses the weight as it is."""

    icd: float = 0.1
    mca: float = 1.0
    mca_balance: str = "adaptive"

    def __post_init__(self) -> None:
        if self.mca_balance not in ("adaptive", "none"):
            raise ValueError(f"mca_balance must be 'adaptive' or 'none', not {self.mca_balance!r}")


def predicted_clean(xt: torch.Tensor, t: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``x0`` implied by a velocity: ``x_t = (1 - t) x0 + t eps`` and ``v = eps - x0`` give ``x_t - t v``."""
    return xt - t.view(-1, *([1] * (xt.dim() - 1))) * v


class VDMiniTask(TrainingTask):
    """Fine-tunes ``student`` (a pruned copy of ``teacher``) with the ICMD objective."""

    name = "vdmini"
    ema_models = ("model",)

    def __init__(
        self, student: VideoDiffusion, teacher: VideoDiffusion, clips: LatentClips, recipe: FlowRecipe,
        weights: ICMDWeights = ICMDWeights(), adversary: Any = None, disc_lr: float | None = None,
    ) -> None:
        if weights.mca and adversary is None:
            raise ValueError("the MCA term needs an adversary (vbench_lite.methods.vdmini.mca.MultiFrameAdversary)")
        self.student = student.train()
        self.teacher = teacher.eval().requires_grad_(False)
        self.student.requires_grad_(True)
        self.student.text_encoder.requires_grad_(False)  # the teacher's caption encoder, frozen
        self.flow = FlowMatchingTask(student, clips, recipe)  # the backbone's batches
        self.recipe = recipe
        self.weights = weights
        self.adversary = adversary
        self.disc_lr = disc_lr if disc_lr is not None else recipe.lr
        self.pairs = matched_taps(teacher.unet.skippable_blocks(), student.unet.skippable_blocks()) if weights.icd else []

    def models(self) -> dict[str, torch.nn.Module]:
        out: dict[str, torch.nn.Module] = {"model": self.student}
        if self.adversary is not None:
            out["disc"] = self.adversary.trainable()
        return out

    def optimizers(self) -> dict[str, OptimizerConfig]:
        r = self.recipe
        out = {"model": OptimizerConfig(("model",), lr=r.lr, weight_decay=r.weight_decay,
                                        warmup_steps=r.warmup_steps, grad_clip=r.grad_clip)}
        if self.adversary is not None:
            out["disc"] = OptimizerConfig(("disc",), lr=self.disc_lr, betas=(0.0, 0.99),
                                          warmup_steps=r.warmup_steps, grad_clip=r.grad_clip)
        return out

    def batch(self, step: int, generator: torch.Generator) -> FlowBatch:
        return self.flow.sample_batch(generator)

    def losses(self, batch: FlowBatch, ctx: StepContext | None = None) -> dict[str, torch.Tensor]:
        """Every term of Eq. 7 for ``batch`` (the discriminator is stepped first when ``ctx`` is given)."""
        xt = interpolate(batch.x0, batch.eps, batch.t)
        with torch.no_grad():
            text = self.teacher.encode_text(batch.ids)
        s_taps = [s for _, s in self.pairs]
        if s_taps:
            v_s, f_s = self.student.velocity_and_features(xt, batch.t, text, s_taps, batch.frame_index)
        else:
            v_s, f_s = self.student.velocity(xt, batch.t, text, batch.frame_index), {}
        out = {"task": F.mse_loss(v_s, velocity_target(batch.x0, batch.eps))}
        total = out["task"]
        if self.weights.icd or self.weights.mca:
            with torch.no_grad():
                t_taps = [t for t, _ in self.pairs]
                if t_taps:
                    v_t, f_t = self.teacher.velocity_and_features(xt, batch.t, text, t_taps, batch.frame_index)
                else:
                    v_t, f_t = self.teacher.velocity(xt, batch.t, text, batch.frame_index), {}
        if self.weights.icd:
            out["icd"] = icd_loss(f_s, f_t, self.pairs)
            total = total + self.weights.icd * out["icd"]
        if self.weights.mca:
            real = predicted_clean(xt, batch.t, v_t)
            fake = predicted_clean(xt, batch.t, v_s)
            gen = ctx.generator if ctx is not None else torch.Generator().manual_seed(0)
            if ctx is not None:  # the discriminator's step first, on this step's (detached) fake
                with ctx.only("disc"):
                    d_loss = self.adversary.discriminator_loss(real, fake.detach(), text, gen)
                    ctx.update("disc", d_loss)
                out["disc"] = d_loss.detach()
            with ctx.only("model") if ctx is not None else contextlib.nullcontext():  # no graph into the heads
                out["mca"] = self.adversary.generator_loss(fake, text, gen)
            weight: float | torch.Tensor = self.weights.mca
            if self.weights.mca_balance == "adaptive" and out["mca"].requires_grad:
                out["mca_balance"] = adaptive_weight(out["task"], out["mca"], self.student.unet.conv_out.weight)
                weight = weight * out["mca_balance"]
            total = total + weight * out["mca"]
        out["total"] = total
        return out

    def train_step(self, ctx: StepContext, batch: FlowBatch) -> dict[str, float]:
        terms = self.losses(batch, ctx)
        ctx.update("model", terms["total"])
        return {k if k == "mca_balance" else f"{k}_loss": float(v.detach()) for k, v in terms.items()
                if k not in ("total", "disc")}

    def batch_examples(self, batch: FlowBatch) -> int:
        return int(batch.x0.shape[0])

    def flops_key(self, batch: FlowBatch) -> Any:
        return tuple(batch.x0.shape)

    def config(self) -> dict[str, Any]:
        cfg = self.flow.config()
        cfg.update({"task": self.name, "weights": asdict(self.weights), "icd_pairs": [list(p) for p in self.pairs],
                    "disc_lr": self.disc_lr if self.adversary is not None else None})
        if self.adversary is not None:
            cfg["adversary"] = self.adversary.config()
        return cfg
