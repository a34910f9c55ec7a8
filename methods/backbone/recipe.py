"""The one training recipe of the backbone's flow-matching methods, and the checkpoint exporter.

``train_flow_method(name, make_task, ...)`` caches the ``train``-split latents, builds the model and
the method's :class:`.trainer.TrainingTask`, runs the shared :class:`.trainer.Trainer` (resuming
from its run folder), and exports the EMA weights (fp16 storage) with a training summary, the exact
command, seed and git commit beside them. A method's recipe names only what is its own (the task,
the sampler, extra config); the defaults below are the baseline's recipe, which TPDiff reuses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vbench_lite.methods.backbone.flow_task import FlowRecipe
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.backbone.trainer import TrainingTask, read_log, summarize_log
from vbench_lite.methods.backbone.unet import UNetConfig

logger = logging.getLogger(__name__)

DEFAULT_STEPS = 6000
NUM_CLIPS = 6144
# widths (16, 48): a batch-32 denoiser call is ~6 GFLOPs. ``layout`` (the text-conditioned space-time
# field) and training times shifted to high noise (t_mean 1.0) are what make the model follow the
# direction sign: see research/direction_conditioning.py.
UNET = UNetConfig()  # the shipped baseline architecture
RECIPE = FlowRecipe(batch_size=32, lr=1e-3, warmup_steps=100, caption_dropout=0.1, t_mean=1.0)
SAMPLER = FlowSampler.uniform(30, cfg_scale=4.0)  # 30 Euler steps with CFG
FRAMES, RESOLUTION = 16, 32  # the training clips' frame count and resolution
EMA_DECAY = 0.998

TaskFactory = Callable[[VideoDiffusion, LatentClips, FlowRecipe], TrainingTask]


def train_flow_method(
    name: str, make_task: TaskFactory, *, out: str | Path, command: str, title: str | None = None,
    steps: int = DEFAULT_STEPS, seed: int = 0, run_dir: str | Path | None = None,
    time_budget_s: float | None = None, checkpoint_every: int = 200, num_clips: int = NUM_CLIPS,
    unet: UNetConfig = UNET, recipe: FlowRecipe = RECIPE, sampler: FlowSampler | Sequence[FlowSampler] = SAMPLER,
    autoencoder_dir: str | Path | None = None, extra_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``make_task(model, clips, recipe)`` for ``steps`` (resuming from ``run_dir``, by default
    the cache's ``runs/<name>/seed<seed>``), then export its EMA model to ``out``; returns a summary."""
    import torch

    from vbench_lite.fsutil import cache_dir
    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.latents import encoded_clips
    from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer

    torch.manual_seed(seed)
    ae, ae_sha = load_autoencoder(autoencoder_dir)
    clips = encoded_clips(ae, ae_sha, num_clips, resolution=RESOLUTION, frames=FRAMES)
    task = make_task(VideoDiffusion(unet), clips, recipe)
    run_dir = Path(run_dir) if run_dir else cache_dir("runs", name, f"seed{seed}")
    cfg = TrainConfig(steps=steps, seed=seed, log_every=20, checkpoint_every=checkpoint_every,
                      ema_decay=EMA_DECAY, time_budget_s=time_budget_s)
    last = Trainer(task, cfg, run_dir).run()
    if time_budget_s is not None:
        command += f" --time-budget {time_budget_s / 60:g}"
    generation = {"frames": FRAMES, "resolution": RESOLUTION}
    return export_checkpoint(last, out, seed=seed, requested_steps=steps, title=title or name, command=command,
                             sampler=sampler, extra_config={"generation": generation, **(extra_config or {})})


def export_checkpoint(
    ckpt: str | Path, out: str | Path, *, seed: int, requested_steps: int, title: str, command: str,
    sampler: FlowSampler | Sequence[FlowSampler] = SAMPLER, model_key: str = "model.ema",
    extra_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the model ``model_key`` (default: the EMA) of training checkpoint ``ckpt`` as shipped
    weights into ``out``: ``config["sampler"]`` is ``sampler`` (or ``{"stages": [...]}`` for a
    sequence of samplers run one after the other), ``extra_config`` is stored beside it."""
    from vbench_lite.env import git_commit
    from vbench_lite.methods.backbone.checkpoint import load_checkpoint
    from vbench_lite.methods.backbone.model import save_model

    ckpt = Path(ckpt)
    tensors, config, _ = load_checkpoint(ckpt)
    model = VideoDiffusion.from_config(config["task"]["model"])
    model.load_state_dict(tensors[model_key])
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
        "command": command,
        "git_commit": git_commit(),
        "recipe": config["task"].get("recipe"),
        "num_clips": config["task"].get("num_clips"),
    }
    out = Path(out)
    save_model(out, model, {"autoencoder_sha256": config["task"]["autoencoder_sha256"],
                            "sampler": sampler_config(sampler), "training": summary, **(extra_config or {})}, half=True)
    (out / "TRAINING.md").write_text(training_markdown(summary, rows, title))
    logger.info("exported %s (step %d) to %s", ckpt, steps_done, out)
    return {"weights": str(out), **{k: v for k, v in summary.items() if k != "recipe"}}


def sampler_config(sampler: FlowSampler | Sequence[FlowSampler]) -> dict[str, Any]:
    if isinstance(sampler, FlowSampler):
        return sampler.to_config()
    return {"stages": [s.to_config() for s in sampler]}


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


def training_markdown(s: dict[str, Any], rows: list[dict[str, Any]], title: str) -> str:
    """The ``TRAINING.md`` beside exported weights: command, seed, compute, loss curve."""
    first, last = s["loss_first"], s["loss_last"]
    loss = f"{first:.4f} (first log) -> {last:.4f} (last log)" if first is not None and last is not None else "n/a"
    lines = [
        f"# {title}: training summary",
        "",
        f"- command: `{s['command']}` (resumable; rerun to continue)",
        f"- seed {s['seed']}, git commit {s['git_commit']}",
        f"- steps trained: {s['steps']} of {s['requested_steps']} requested; {s['examples_seen']} clips seen",
        f"- training compute: {s['train_flops']:.3e} {s['train_flops_unit']}",
        f"- wall time: {s['elapsed_s'] / 60:.1f} min on the 2-core reference machine",
        f"- flow-matching loss: {loss}",
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


def recipe_dict(unet: UNetConfig = UNET, recipe: FlowRecipe = RECIPE) -> dict[str, Any]:
    return {"unet": unet.to_dict(), "recipe": asdict(recipe), "num_clips": NUM_CLIPS, "steps": DEFAULT_STEPS}


def loss_terms_table(run_dir: str | Path, steps: int, keys: Sequence[str]) -> list[str]:
    """Markdown lines of a table of the logged terms ``keys`` (those the run logged) of the run in
    ``run_dir`` up to ``steps``, about ten rows: what a method adds to TRAINING.md per loss term."""
    rows = [r for r in read_log(run_dir) if r["step"] <= steps]
    keys = [k for k in keys if rows and k in rows[-1]]
    lines = ["| step | " + " | ".join(keys) + " |", "|---:|" + "---:|" * len(keys)]
    seen: set[int] = set()
    for r in rows[:: max(1, len(rows) // 10)] + rows[-1:]:
        if r["step"] not in seen:
            seen.add(r["step"])
            lines.append(f"| {r['step']} | " + " | ".join(f"{r.get(k, float('nan')):.4f}" for k in keys) + " |")
    return lines
