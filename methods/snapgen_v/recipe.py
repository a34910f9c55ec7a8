"""SnapGen-V recipe: ``python -m vbench_lite train --method snapgen-v[:VARIANT]``.

- ``snapgen-v:no-adv`` (step 2): the architecture the search chose (``search/search.json``,
  written by :mod:`.search`) built from the baseline's configuration, initialised from the baseline
  where names and shapes match (:func:`.space.inherit`), every layer trainable, the backbone's
  flow-matching task at a fine-tuning learning rate; exported with the 4-step sampler without CFG.
- ``snapgen-v`` (step 3): the ``no-adv`` weights fine-tuned adversarially (:mod:`.adversarial`).
- ``snapgen-v:baseline-arch`` (step 3 on the unsearched baseline): the shipped ``baseline``
  weights fine-tuned by the same adversarial recipe, same step count and seed.

Each run resumes from its checkpoints (``runs/snapgen-v[-VARIANT]/seed<seed>`` in the cache) and
exports its EMA weights (fp16 storage) with a TRAINING.md.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from vbench_lite.methods.backbone.recipe import RECIPE as BASE_RECIPE
from vbench_lite.methods.snapgen_v import weights_dir
from vbench_lite.methods.snapgen_v.adversarial import FOUR_STEPS, AdversarialWeights
from vbench_lite.methods.snapgen_v.search import SEARCH_DIR, TEACHER

logger = logging.getLogger(__name__)

TRAIN_COMMAND = "python -m vbench_lite train --method snapgen-v"
FLOW_STEPS = 1600  # step 2 (capped by --time-budget 14 in the shipped run)
ADV_STEPS = 500  # step 3, each of snapgen-v and snapgen-v:baseline-arch (--time-budget 14 each)
FLOW_RECIPE = replace(BASE_RECIPE, lr=5e-4, warmup_steps=20)
ADV_RECIPE = replace(BASE_RECIPE, lr=1e-4, warmup_steps=20, caption_dropout=0.0)
ADV_WEIGHTS = AdversarialWeights()
ADV_EMA_DECAY = 0.99  # a short fine-tuning: the default 0.998 would mostly average in the start
VARIANTS = (None, "no-adv", "baseline-arch")


def chosen_genes(path: str | Path = SEARCH_DIR / "search.json") -> dict[str, str]:
    doc = json.loads(Path(path).read_text())
    if "chosen" not in doc:
        raise ValueError(f"{path} holds an unfinished search; run python -m vbench_lite.methods.snapgen_v.search")
    return dict(doc["chosen"]["genes"])


def load_baseline(device: str = "cpu") -> tuple[Any, str]:
    from vbench_lite.methods.snapgen_v.search import load_teacher

    return load_teacher(device)


def train_snapgen_v(
    steps: int | None = None, seed: int = 0, out: str | Path | None = None, variant: str | None = None,
    run_dir: str | Path | None = None, time_budget_s: float | None = None,
) -> dict[str, Any]:
    if variant not in VARIANTS:
        raise ValueError(f"snapgen-v has no variant {variant!r}; use snapgen-v, snapgen-v:no-adv or "
                         "snapgen-v:baseline-arch")
    from vbench_lite.fsutil import cache_dir

    full = f"snapgen-v:{variant}" if variant else "snapgen-v"
    run_dir = Path(run_dir) if run_dir else cache_dir("runs", full.replace(":", "-"), f"seed{seed}")
    out = Path(out) if out else weights_dir(variant)
    if variant == "no-adv":
        return _train_flow(steps or FLOW_STEPS, seed, out, run_dir, time_budget_s)
    return _train_adversarial(variant, steps or ADV_STEPS, seed, out, run_dir, time_budget_s)


def _train_flow(steps: int, seed: int, out: Path, run_dir: Path, time_budget_s: float | None) -> dict[str, Any]:
    from vbench_lite.methods.backbone.flow_task import FlowMatchingTask
    from vbench_lite.methods.backbone.recipe import train_flow_method
    from vbench_lite.methods.snapgen_v.space import candidate_config, inherit

    teacher, teacher_sha = load_baseline()
    genes = chosen_genes()
    unet = candidate_config(teacher.unet.config, genes)

    def make_task(model: Any, clips: Any, recipe: Any) -> FlowMatchingTask:
        inherit(model, teacher)  # a resumed run then loads its checkpoint over this
        return FlowMatchingTask(model.requires_grad_(True), clips, recipe)

    return train_flow_method(
        "snapgen-v-no-adv", make_task, out=out, steps=steps, seed=seed, title="snapgen-v:no-adv",
        command=f"{TRAIN_COMMAND}:no-adv --steps {steps} --seed {seed}", run_dir=run_dir,
        time_budget_s=time_budget_s, unet=unet, recipe=FLOW_RECIPE, sampler=FOUR_STEPS,
        extra_config={"snapgen_v": {"step": "2: flow matching of the searched architecture", "genes": genes,
                                    "init": TEACHER, "init_sha256": teacher_sha}},
    )


def _train_adversarial(variant: str | None, steps: int, seed: int, out: Path, run_dir: Path,
                       time_budget_s: float | None) -> dict[str, Any]:
    import torch

    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.latents import encoded_clips
    from vbench_lite.methods.backbone.model import load_model
    from vbench_lite.methods.backbone.recipe import FRAMES, NUM_CLIPS, RESOLUTION, export_checkpoint
    from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer
    from vbench_lite.methods.snapgen_v.adversarial import AdversarialFewStepTask, FrozenEncoderDiscriminator

    if variant == "baseline-arch":
        start, start_sha = load_baseline()
        start_name = TEACHER
    else:
        start_dir = weights_dir("no-adv")
        start, _, start_sha = load_model(start_dir, f"{TRAIN_COMMAND}:no-adv")
        start_name = "snapgen-v:no-adv"
    torch.manual_seed(seed)
    start = start.requires_grad_(True)
    ae, ae_sha = load_autoencoder()
    clips = encoded_clips(ae, ae_sha, NUM_CLIPS, resolution=RESOLUTION, frames=FRAMES)
    disc = FrozenEncoderDiscriminator(start)
    task = AdversarialFewStepTask(start, clips, ADV_RECIPE, disc, ADV_WEIGHTS)
    cfg = TrainConfig(steps=steps, seed=seed, log_every=20, checkpoint_every=50, ema_decay=ADV_EMA_DECAY,
                      time_budget_s=time_budget_s)
    last = Trainer(task, cfg, run_dir).run()
    full = f"snapgen-v:{variant}" if variant else "snapgen-v"
    command = f"{TRAIN_COMMAND}{':' + variant if variant else ''} --steps {steps} --seed {seed}"
    if time_budget_s is not None:
        command += f" --time-budget {time_budget_s / 60:g}"
    summary = export_checkpoint(
        last, out, seed=seed, requested_steps=steps, title=full, command=command, sampler=FOUR_STEPS,
        extra_config={"generation": {"frames": FRAMES, "resolution": RESOLUTION},
                      "snapgen_v": {"step": "3: adversarial 4-step fine-tuning", "start": start_name,
                                    "start_sha256": start_sha, "times": list(FOUR_STEPS.times)}})
    _append_loss_terms(out / "TRAINING.md", run_dir, summary["steps"], start_name)
    return summary


def _append_loss_terms(md: Path, run_dir: Path, steps: int, start: str) -> None:
    """TRAINING.md's loss line is the generator's total; add each term."""
    from vbench_lite.methods.backbone.recipe import loss_terms_table

    w = ADV_WEIGHTS
    lines = ["", "## SnapGen-V adversarial fine-tuning", "",
             f"- start: `{start}`; generator = its UNet (caption encoder frozen); discriminator = frozen copy of "
             "its UNet encoder (taps after each downsampling block and at the encoder's end) + trainable heads",
             f"- objective: {w.flow:g} x rectified-flow loss + {w.adversarial:g} x hinge generator loss at the fixed "
             f"times {list(FOUR_STEPS.times[:-1])}; discriminator hinge loss on inputs re-noised at logit-normal "
             f"s ~ sigmoid(N({w.noise_mean:g}, {w.noise_std:g})), lr {w.disc_lr:g}; EMA decay {ADV_EMA_DECAY}",
             f"- recipe: {ADV_RECIPE}",
             "- the loss in the table above is the generator's total (flow + weighted hinge); its terms:",
             "", *loss_terms_table(run_dir, steps, ("flow_loss", "adv_loss", "disc_loss"))]
    md.write_text(md.read_text() + "\n".join(lines) + "\n")
