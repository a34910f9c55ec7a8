"""Training of the frame autoencoder (``python -m vbench_lite train --autoencoder``) as a
:class:`TrainingTask` of the shared trainer.

Frames come from a bank of ``train``-split videos rendered once before the loop; each step draws
random frames from it. Held-out reconstruction PSNR is measured on ``validation``-split videos.
After training, the latent scale/shift to unit variance is measured on bank frames and stored in
the shipped checkpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from vbench_lite.methods.backbone.autoencoder import (
    WEIGHTS_DIR,
    FrameAutoencoder,
    config_dict,
    psnr_uint8,
    to_unit,
)
from vbench_lite.methods.backbone.checkpoint import save_checkpoint
from vbench_lite.methods.backbone.trainer import OptimizerConfig, TrainConfig, Trainer, TrainingTask

logger = logging.getLogger(__name__)


class AutoencoderTask(TrainingTask):
    name = "autoencoder"
    ema_models = ("autoencoder",)

    def __init__(self, bank: torch.Tensor, batch_size: int = 32, lr: float = 2e-3) -> None:
        self.bank = bank  # uint8 [N, 3, H, W]
        self.batch_size = batch_size
        self.lr = lr
        self.model = FrameAutoencoder()

    def models(self) -> dict[str, torch.nn.Module]:
        return {"autoencoder": self.model}

    def optimizers(self) -> dict[str, OptimizerConfig]:
        return {"ae": OptimizerConfig(models=("autoencoder",), lr=self.lr, warmup_steps=50)}

    def batch(self, step: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(len(self.bank), (self.batch_size,), generator=generator)
        return to_unit(self.bank[idx])

    def train_step(self, ctx: Any, batch: torch.Tensor) -> dict[str, float]:
        recon = self.model(batch)
        ctx.update("ae", F.mse_loss(recon, batch))
        return {}

    def config(self) -> dict[str, Any]:
        return {"task": self.name, "autoencoder": config_dict(self.model), "batch_size": self.batch_size}


def frame_bank(num_videos: int, split: str = "train", resolution: int = 32, offset: int = 0) -> torch.Tensor:
    """uint8 frames ``[num_videos * 16, 3, H, W]`` of ``split`` videos."""
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    video = suite.render(suite.items(split, num_videos, offset), resolution=resolution)
    return video.flatten(0, 1)


@torch.no_grad()
def heldout_psnr(model: FrameAutoencoder, resolution: int = 32, num_videos: int = 64) -> float:
    """Reconstruction PSNR (dB, uint8 peak 255) on ``validation``-split frames."""
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    video = suite.render(suite.items("validation", num_videos), resolution=resolution)
    recon = model.decode_video(model.encode_video(video))
    return psnr_uint8(recon, video)


@torch.no_grad()
def measure_latent_stats(model: FrameAutoencoder, bank: torch.Tensor, n: int = 2048) -> tuple[float, float]:
    z = model.encoder(to_unit(bank[:n]))
    return float(z.mean()), float(z.std())


def train_autoencoder(
    steps: int = 1500,
    seed: int = 0,
    out: str | Path | None = None,
    run_dir: str | Path | None = None,
    num_videos: int = 1024,
    time_budget_s: float | None = None,
) -> dict[str, Any]:
    """Train, measure latent scale and held-out PSNR, write the shipped checkpoint to ``out``."""
    from vbench_lite.fsutil import cache_dir

    torch.manual_seed(seed)
    bank = frame_bank(num_videos)
    task = AutoencoderTask(bank)
    run_dir = Path(run_dir) if run_dir else cache_dir("runs", "autoencoder", f"seed{seed}")
    cfg = TrainConfig(steps=steps, seed=seed, log_every=25, checkpoint_every=250,
                      ema_decay=0.995, time_budget_s=time_budget_s)
    trainer = Trainer(task, cfg, run_dir)
    trainer.run()
    model = trainer.ema["autoencoder"].eval()
    shift, std = measure_latent_stats(model, bank)
    model.latent_shift.fill_(shift)
    model.latent_scale.fill_(1.0 / std)
    psnr = {r: heldout_psnr(model, r) for r in (24, 32, 48)}
    logger.info("held-out PSNR: %s dB", psnr)
    out = Path(out) if out else WEIGHTS_DIR
    from vbench_lite.env import git_commit

    config = {
        "autoencoder": config_dict(model),
        "latent_scale": 1.0 / std,
        "latent_shift": shift,
        "heldout_psnr_db": psnr,
        "train_steps": trainer.step,
        "train_flops": trainer.train_flops,
        "seed": seed,
        "command": f"python -m vbench_lite train --autoencoder --steps {steps} --seed {seed}",
        "git_commit": git_commit(),
    }
    save_checkpoint(out, {"autoencoder": model.state_dict()}, config)
    return {"out": str(out), "psnr_db": psnr, "steps": trainer.step, "train_flops": trainer.train_flops}
