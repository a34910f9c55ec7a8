"""The baseline's training recipe: ``python -m vbench_lite train --method baseline [--steps N]``.

Flow matching on cached latents of ``train``-split clips with the shared trainer; the EMA weights
of the final checkpoint are exported (fp16 storage) as the package data of the ``baseline`` method,
with a training-log summary, the exact command, seed and git commit beside them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vbench_lite.methods.backbone.autoencoder import load_autoencoder
from vbench_lite.methods.backbone.checkpoint import load_checkpoint
from vbench_lite.methods.backbone.flow_task import FlowMatchingTask, FlowRecipe
from vbench_lite.methods.backbone.latents import encoded_clips
from vbench_lite.methods.backbone.model import VideoDiffusion, save_model
from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer, read_log, summarize_log
from vbench_lite.methods.backbone.unet import UNetConfig

logger = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
TRAIN_COMMAND = "python -m vbench_lite train --method baseline"
DEFAULT_STEPS = 6000
NUM_CLIPS = 6144
# widths (16, 48): a batch-32 denoiser call is ~6 GFLOPs. ``layout`` (the text-conditioned space-time
# field) and training times shifted to high noise (t_mean 1.0) are what make the model follow the
# direction sign: see benchmarks/direction_conditioning.py.
UNET = UNetConfig(layout=True)
SAMPLER = {"steps": 30, "sampler": "euler", "cfg_scale": 4.0, "shift": 1.0}
RECIPE = FlowRecipe(batch_size=32, lr=1e-3, warmup_steps=100, caption_dropout=0.1, t_mean=1.0)


def train_baseline(
    steps: int = DEFAULT_STEPS, seed: int = 0, out: str | Path | None = None,
    run_dir: str | Path | None = None, time_budget_s: float | None = None,
    checkpoint_every: int = 200, num_clips: int = NUM_CLIPS, unet: UNetConfig = UNET,
    recipe: FlowRecipe = RECIPE, autoencoder_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train (resuming from ``run_dir``), then export the EMA weights to ``out``; returns a summary."""
    import torch

    from vbench_lite.fsutil import cache_dir

    torch.manual_seed(seed)
    ae, ae_sha = load_autoencoder(autoencoder_dir)
    clips = encoded_clips(ae, ae_sha, num_clips)
    model = VideoDiffusion(unet)
    task = FlowMatchingTask(model, clips, recipe)
    run_dir = Path(run_dir) if run_dir else cache_dir("runs", "baseline", f"seed{seed}")
    cfg = TrainConfig(steps=steps, seed=seed, log_every=20, checkpoint_every=checkpoint_every,
                      ema_decay=0.998, time_budget_s=time_budget_s)
    last = Trainer(task, cfg, run_dir).run()
    command = f"{TRAIN_COMMAND} --steps {steps} --seed {seed}"
    if time_budget_s is not None:
        command += f" --time-budget {time_budget_s / 60:g}"
    return export_checkpoint(last, out or WEIGHTS_DIR, seed=seed, requested_steps=steps, command=command)


def export_checkpoint(
    ckpt: str | Path, out: str | Path, *, seed: int, requested_steps: int, title: str = "baseline",
    command: str | None = None, extra_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the EMA model of training checkpoint ``ckpt`` as shipped weights into ``out``.

    Methods trained with this recipe's loop (TPDiff, ...) pass their own ``title``, ``command``
    and ``extra_config`` (stored in the checkpoint config).
    """
    from vbench_lite.env import git_commit

    ckpt = Path(ckpt)
    tensors, config, _ = load_checkpoint(ckpt)
    model = VideoDiffusion.from_config(config["task"]["model"])
    model.load_state_dict(tensors["model.ema"])
    ae_sha = config["task"]["autoencoder_sha256"]
    rows = read_log(ckpt.parent)
    loss = summarize_log([r for r in rows if r["step"] <= config["step"]], "model_loss")
    steps_done = int(config["step"])
    summary = {
        "steps": steps_done,
        "requested_steps": requested_steps,
        "examples_seen": config["examples_seen"],
        "train_flops": config["train_flops"],
        "train_flops_unit": config["train_flops_unit"],
        "loss_first": loss.get("first"),
        "loss_last": loss.get("last"),
        "elapsed_s": sum(_segment_times(rows, steps_done)),
        "seed": seed,
        "command": command or f"{TRAIN_COMMAND} --steps {requested_steps} --seed {seed}",
        "git_commit": git_commit(),
        "recipe": config["task"]["recipe"],
        "num_clips": config["task"]["num_clips"],
    }
    out = Path(out)
    save_model(out, model, {"autoencoder_sha256": ae_sha, "sampler": SAMPLER, "training": summary,
                            **(extra_config or {})}, half=True)
    (out / "TRAINING.md").write_text(_training_md(summary, rows, title))
    logger.info("exported %s (step %d) to %s", ckpt, steps_done, out)
    return {"weights": str(out), **{k: v for k, v in summary.items() if k != "recipe"}}


def _segment_times(rows: list[dict[str, Any]], upto: int) -> list[float]:
    """Wall time of each uninterrupted training segment (elapsed_s restarts on resume)."""
    out, prev = [], None
    for r in rows:
        if r["step"] > upto:
            break
        if prev is not None and r["elapsed_s"] < prev:
            out.append(prev)
        prev = r["elapsed_s"]
    if prev is not None:
        out.append(prev)
    return out


def _training_md(s: dict[str, Any], rows: list[dict[str, Any]], title: str = "baseline") -> str:
    lines = [
        f"# {title}: training summary",
        "",
        f"- command: `{s['command']}` (resumable; rerun to continue)",
        f"- seed {s['seed']}, git commit {s['git_commit']}",
        f"- steps trained: {s['steps']} of {s['requested_steps']} requested; {s['examples_seen']} clips seen",
        f"- training compute: {s['train_flops']:.3e} {s['train_flops_unit']}",
        f"- wall time: {s['elapsed_s'] / 60:.1f} min on the 2-core reference machine",
        f"- flow-matching loss: {s['loss_first']:.4f} (first log) -> {s['loss_last']:.4f} (last log)",
        f"- recipe: {s['recipe']}",
        f"- training clips: {s['num_clips']} `train`-split clips, encoded to latents once",
        "",
        "| step | loss | clips/s | train FLOPs |",
        "|---:|---:|---:|---:|",
    ]
    picked = rows[:: max(1, len(rows) // 12)] + rows[-1:]
    seen = set()
    for r in picked:
        if r["step"] in seen or r["step"] > s["steps"]:
            continue
        seen.add(r["step"])
        lines.append(f"| {r['step']} | {r.get('model_loss', float('nan')):.4f} | {r['examples_per_s']:.1f} | {r['train_flops']:.3e} |")
    return "\n".join(lines) + "\n"


def recipe_dict() -> dict[str, Any]:
    return {"unet": UNET.to_dict(), "recipe": asdict(RECIPE), "num_clips": NUM_CLIPS, "steps": DEFAULT_STEPS}
