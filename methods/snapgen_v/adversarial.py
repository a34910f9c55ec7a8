"""SnapGen-V step 3: adversarial fine-tuning to 4 steps without CFG (Wu et al., arXiv 2412.10494,
Sec. 4; in the line of LADD, Sauer et al. 2024, and SF-V, Zhang et al. 2024).

- **Generator**: the denoiser at :data:`FIXED_TIMES` only (the 4 times the sampler evaluates).
  For a clean latent ``x0`` and noise ``eps`` at one of them, ``x_t = (1 - t) x0 + t eps``; the
  network's velocity ``v`` implies the clean sample ``x0_hat = x_t - t v``.
- **Discriminator**: the backbone's :class:`~vbench_lite.methods.backbone.discriminator.MultiFrameDiscriminator`
  on a *frozen copy* of the denoiser's encoder half at the start of the fine-tuning, read through
  the UNet's feature taps after each downsampling block and at the end of the encoder; only its
  heads (frame-wise 2D block, temporal attention, projection output) train. It sees ``x0_hat`` and
  real ``x0``, both re-noised to a logit-normal time ``s`` with the same noise, and is conditioned
  on the noise level and the pooled caption embedding.
- **Losses**: hinge (``L_D = E[relu(1 - D(real))] + E[relu(1 + D(fake))]``, ``L_G = -E[D(fake)]``)
  plus the rectified-flow loss ``|v - (eps - x0)|^2`` at the same fixed times.
- **No CFG**: captions are never dropped here, and the sampler (:data:`FOUR_STEPS`) makes one
  conditional call per step: 4 denoiser calls per video.

The caption encoder is the starting model's, frozen: the generator is the UNet.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch.nn import functional as F

from vbench_lite.methods.backbone.discriminator import (
    MultiFrameDiscriminator,
    hinge_d_loss,
    hinge_g_loss,
    unet_features,
)
from vbench_lite.methods.backbone.flow import interpolate, sample_train_t, velocity_target
from vbench_lite.methods.backbone.flow_task import FlowBatch, FlowMatchingTask, FlowRecipe
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.layers import sinusoidal
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.backbone.trainer import OptimizerConfig, StepContext, TrainingTask

FIXED_TIMES: tuple[float, ...] = (1.0, 0.75, 0.5, 0.25)
FOUR_STEPS = FlowSampler(times=(*FIXED_TIMES, 0.0), cfg_scale=1.0)  # 4 Euler steps, no CFG: 4 calls


@dataclass(frozen=True)
class AdversarialWeights:
    adversarial: float = 0.5  # weight of the hinge generator loss (VDMini's 1.0 dominated its flow loss here)
    flow: float = 1.0  # weight of the rectified-flow loss
    disc_lr: float = 2e-4
    noise_mean: float = 0.0  # logit-normal re-noising time s of the discriminator's inputs
    noise_std: float = 1.0


def encoder_taps(unet: Any) -> list[str]:
    """The outputs of every downsampling block and of the encoder half's last block."""
    names = unet.block_names()
    taps = [n for n in names if n.endswith(".downsample")]
    encoder = [n for n in names if n.startswith(("down.", "mid."))]
    if encoder and encoder[-1] not in taps:
        taps.append(encoder[-1])
    return taps


class FrozenEncoderDiscriminator:
    """SnapGen-V's discriminator: a frozen copy of ``model``'s UNet encoder + trainable heads."""

    def __init__(self, model: VideoDiffusion, hidden: int = 64) -> None:
        self.backbone = copy.deepcopy(model.unet).requires_grad_(False).eval()
        cfg = self.backbone.config
        self.taps = encoder_taps(self.backbone)

        def width(name: str) -> int:
            if name.endswith(".downsample"):
                return cfg.widths[int(name.split(".")[1]) + 1]
            return cfg.widths[-1] if name.startswith("mid.") else cfg.widths[int(name.split(".")[1])]

        self.emb_dim, self.hidden = cfg.emb_dim, hidden
        self.disc = MultiFrameDiscriminator(unet_features(self.backbone, self.taps), {n: width(n) for n in self.taps},
                                            cond_dim=cfg.emb_dim + cfg.text_dim, hidden=hidden,
                                            group_channels=cfg.group_channels)

    def heads(self) -> torch.nn.Module:
        """The trainable part (the extractor is a plain attribute of it, not a submodule)."""
        return self.disc

    def logits(self, x: torch.Tensor, s: torch.Tensor, text: tuple[torch.Tensor, ...]) -> torch.Tensor:
        cond = torch.cat([sinusoidal(s * 1000.0, self.emb_dim), text[2]], dim=1)  # noise level + pooled caption
        return self.disc(x, cond, s, *text)

    def config(self) -> dict[str, Any]:
        return {"backbone": "frozen copy of the starting denoiser's UNet (encoder half through taps)",
                "taps": self.taps, "hidden": self.hidden, "cond": "sinusoidal(noise level) + pooled caption"}


@dataclass
class AdversarialBatch:
    flow: FlowBatch  # t holds one of FIXED_TIMES per row
    s: torch.Tensor  # [B] re-noising times of the discriminator's inputs
    eps_d: torch.Tensor  # their noise


class AdversarialFewStepTask(TrainingTask):
    """Generator (``model``'s UNet) and discriminator heads, alternating per step."""

    name = "snapgen-v-adversarial"
    ema_models = ("model",)

    def __init__(self, model: VideoDiffusion, clips: LatentClips, recipe: FlowRecipe,
                 discriminator: FrozenEncoderDiscriminator, weights: AdversarialWeights = AdversarialWeights(),
                 times: tuple[float, ...] = FIXED_TIMES) -> None:
        if recipe.caption_dropout:
            raise ValueError("the 4-step generator runs without CFG: use caption_dropout=0")
        self.model = model.train()
        self.model.requires_grad_(True)
        self.model.text_encoder.requires_grad_(False)
        self.flow = FlowMatchingTask(model, clips, recipe)
        self.recipe, self.weights, self.times = recipe, weights, tuple(times)
        self.discriminator = discriminator

    def models(self) -> dict[str, torch.nn.Module]:
        return {"model": self.model, "disc": self.discriminator.heads()}

    def optimizers(self) -> dict[str, OptimizerConfig]:
        r, w = self.recipe, self.weights
        return {"model": OptimizerConfig(("model",), lr=r.lr, weight_decay=r.weight_decay,
                                         warmup_steps=r.warmup_steps, grad_clip=r.grad_clip),
                "disc": OptimizerConfig(("disc",), lr=w.disc_lr, betas=(0.0, 0.99),
                                        warmup_steps=r.warmup_steps, grad_clip=r.grad_clip)}

    def batch(self, step: int, generator: torch.Generator) -> AdversarialBatch:
        fb = self.flow.sample_batch(generator)
        pick = torch.randint(len(self.times), (fb.x0.shape[0],), generator=generator)
        fb.t = torch.tensor(self.times, dtype=fb.x0.dtype)[pick]
        s = sample_train_t(fb.x0.shape[0], generator, self.weights.noise_mean, self.weights.noise_std)
        return AdversarialBatch(fb, s, torch.randn(fb.x0.shape, generator=generator))

    def losses(self, b: AdversarialBatch, ctx: StepContext) -> dict[str, torch.Tensor]:
        fb = b.flow
        with torch.no_grad():
            text = self.model.encode_text(fb.ids)
        xt = interpolate(fb.x0, fb.eps, fb.t)
        v = self.model.velocity(xt, fb.t, text)
        flow = F.mse_loss(v, velocity_target(fb.x0, fb.eps))
        x0_hat = xt - fb.t.view(-1, 1, 1, 1, 1) * v
        real = interpolate(fb.x0, b.eps_d, b.s)
        fake = interpolate(x0_hat, b.eps_d, b.s)
        d = self.discriminator
        with ctx.only("disc"):  # the discriminator's step first, on this step's detached fake
            d_loss = hinge_d_loss(d.logits(real, b.s, text), d.logits(fake.detach(), b.s, text))
            ctx.update("disc", d_loss)
        with ctx.only("model"):  # no graph into the heads
            g_adv = hinge_g_loss(d.logits(fake, b.s, text))
        return {"flow": flow, "adv": g_adv, "disc": d_loss.detach(),
                "total": self.weights.flow * flow + self.weights.adversarial * g_adv}

    def train_step(self, ctx: StepContext, batch: AdversarialBatch) -> dict[str, float]:
        terms = self.losses(batch, ctx)
        ctx.update("model", terms["total"])
        return {f"{k}_loss": float(v.detach()) for k, v in terms.items() if k not in ("total", "disc")}

    def batch_examples(self, batch: AdversarialBatch) -> int:
        return int(batch.flow.x0.shape[0])

    def flops_key(self, batch: AdversarialBatch) -> Any:
        return tuple(batch.flow.x0.shape)

    def config(self) -> dict[str, Any]:
        cfg = self.flow.config()
        cfg.update({"task": self.name, "times": list(self.times), "weights": asdict(self.weights),
                    "discriminator": self.discriminator.config()})
        return cfg
