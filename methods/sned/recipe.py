"""SNED training recipes: ``python -m vbench_lite train --method sned[:VARIANT]``.

- ``sned`` (the supernet): the baseline's UNet initialised from the shipped ``baseline`` weights
  (loaded through the method registry), trained with dynamic cost sampling
  (:mod:`.cost_sampling`) over the training pool of :mod:`.search_space` at 24, 32 and 48 px, with
  the sampling warm-up (largest network only for ``WARMUP_STEPS``, then the share of sampled
  subnets ramps to ``FINAL_SHARE`` over ``RAMP_STEPS``).
- ``sned:no-warmup``: the same from step 0 without the warm-up (the convergence comparison).
- ``sned:standalone-m-32``: the ``m-32`` architecture as its own network (the baseline's leading
  channel weights copied in, :func:`~vbench_lite.methods.backbone.slicing.materialize`), trained
  with plain flow matching at 32 px for as many optimiser steps as the supernet drew that
  architecture's cost bucket at 32 px (:func:`standalone_steps`), the paper's "separately trained
  model" comparison.

Every run (the comparison runs too, so that they isolate weight sharing and the warm-up) trains
on the same loss: flow matching mixed with distillation from a frozen copy of the baseline it starts
from, ``(1 - TEACHER_DISTILL) * flow + TEACHER_DISTILL * MSE(v, v_teacher)`` (``TEACHER_DISTILL`` is
1: distillation alone), for every architecture,
the largest included (once-for-all's knowledge distillation, :mod:`.task`; the paper's objective is
not public). Run folders carry the loss in their name (``runs/sned-ofa-kd1/...``), so a cache holding
a run of the earlier plain flow-matching recipe is never resumed by this one.

Everything else is the backbone's recipe (:func:`~vbench_lite.methods.backbone.recipe.train_flow_method`:
trainer, EMA, resume, export with TRAINING.md) at a fine-tuning learning rate, since every run
starts from the trained baseline.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from vbench_lite.methods.backbone.recipe import RECIPE as BASE_RECIPE
from vbench_lite.methods.backbone.recipe import SAMPLER, train_flow_method
from vbench_lite.methods.sned.cost_sampling import CostBuckets, SamplingWarmup, SupernetSampler
from vbench_lite.methods.sned.search_space import SearchSpace, SubnetArch, denoiser_flops

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
WEIGHTS_ROOT = HERE / "weights"
TRAIN_COMMAND = "python -m vbench_lite train --method sned"
INIT = "baseline"

SUPERNET_STEPS = 6000
NO_WARMUP_STEPS = 2000
WARMUP_STEPS = 300  # largest network only
RAMP_STEPS = 300  # then the share of sampled subnets grows linearly to FINAL_SHARE
FINAL_SHARE = 0.75  # the largest network keeps a quarter of the steps (BigNAS always trains it)
NUM_BUCKETS = 4
POOL_SEED = 0
# Clips at the other resolutions: the first EXTRA_CLIPS of the same train-split clips (encoding
# 6144 clips at 48 px costs minutes of the CPU budget; a few thousand steps never exhaust 3072).
EXTRA_CLIPS = 3072
RECIPE = replace(BASE_RECIPE, lr=5e-4, warmup_steps=20)
# Share of the frozen baseline teacher's velocity in every architecture's loss (OFA's KD, see
# :mod:`.task`); 0 is the plain flow-matching supernet of the first training run. 1.0 (distillation
# alone) by a probe of the no-warm-up run at step 200 (KVD / FVD on 32 validation videos; the
# baseline: 92.7 / 431.6): l-32 148 / 519 at 1.0, 401 / 566 at 0.5, KVD 526 with flow matching alone;
# m-32 290 / 647 at 1.0, 346 / 673 at 0.5. The flow target's noise (loss ~0.2 at the optimum) is what
# moves the shared weights away from the baseline; the teacher's velocity has none. At 1.0 the
# largest network starts at zero loss, so the sampling warm-up's largest-only steps leave the
# weights unchanged: the warm-up then only delays and ramps the subnets' share.
TEACHER_DISTILL = 1.0
STANDALONE = "m-32"

TRAINING_VARIANTS = (None, "no-warmup", f"standalone-{STANDALONE}")


def weights_dir(variant: str | None) -> Path:
    return WEIGHTS_ROOT / (variant or "supernet")


def run_name(variant: str | None, teacher_distill: float = TEACHER_DISTILL) -> str:
    """The cache's run folder name of a variant: the loss is part of it (``-ofa-kd<d>``), and for
    the standalone model its architecture (a digest of the preset's widths, skipped blocks and
    resolution), so re-picking the
    preset never resumes the previous architecture's run."""
    base = f"sned-{variant}" if variant else "sned"
    if variant == f"standalone-{STANDALONE}":
        from vbench_lite.methods.sned.presets import PRESETS
        from vbench_lite.spec import canonical_json, sha256_text

        base += "-" + sha256_text(canonical_json(PRESETS[STANDALONE].to_dict()))[:8]
    return f"{base}-ofa-kd{teacher_distill:g}" if teacher_distill > 0 else base


def load_init(device: str = "cpu") -> tuple[Any, str]:
    """A trainable copy of the shipped baseline model and its weights' SHA-256, via the registry."""
    import vbench_lite

    adapter = vbench_lite.load_method(INIT)
    adapter.load(device)
    model = copy.deepcopy(adapter.generator.model).float().requires_grad_(True).train()
    return model, adapter.describe()["weights_sha256"]


def make_sampler(space: SearchSpace, unet: Any, warmup: bool = True, sandwich: bool = False,
                 rates: list[float] | None = None) -> SupernetSampler:
    """The training pool's cost buckets (FLOPs measured on ``unet``) and the step sampler."""
    pool = space.training_pool(POOL_SEED)
    flops = [denoiser_flops(unet, a) for a in pool]
    buckets = CostBuckets(pool, flops, NUM_BUCKETS, rates)
    schedule = SamplingWarmup(WARMUP_STEPS, RAMP_STEPS, FINAL_SHARE) if warmup else SamplingWarmup(0, 0, FINAL_SHARE)
    return SupernetSampler(space, buckets, schedule, sandwich=sandwich)


def replay_draws(sampler: SupernetSampler, steps: int, seed: int = 0) -> list[Any]:
    """What the supernet trained at steps ``0..steps-1``: the trainer seeds each step's generator with
    ``seed * 1_000_003 + step`` and the task's first use of it is ``sampler.draw``."""
    out = []
    for step in range(steps):
        gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
        out.append(sampler.draw(step, gen))
    return out


def standalone_steps(sampler: SupernetSampler, arch: SubnetArch, supernet_steps: int, seed: int = 0) -> int:
    """Supernet steps that drew a subnet of ``arch``'s cost bucket at ``arch``'s resolution."""
    bucket = sampler.buckets.bucket_of(sampler.buckets.flops_of(arch)) if arch in sampler.buckets.archs else \
        sampler.buckets.bucket_of(denoiser_flops_of(sampler, arch))
    return sum(1 for d in replay_draws(sampler, supernet_steps, seed)
               for a, b in zip(d.archs, d.buckets) if b == bucket and a.resolution == arch.resolution)


def denoiser_flops_of(sampler: SupernetSampler, arch: SubnetArch) -> int:
    from vbench_lite.methods.backbone.unet import SpaceTimeUNet

    return denoiser_flops(SpaceTimeUNet(sampler.space.config), arch)


def _clips(resolutions: tuple[int, ...], base: Any) -> dict[int, Any]:
    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.latents import encoded_clips

    ae, sha = load_autoencoder(None)
    out = {}
    for r in resolutions:
        out[r] = base if r == 32 else encoded_clips(ae, sha, EXTRA_CLIPS, resolution=r, frames=16)
    return out


def train_sned(
    steps: int | None = None, seed: int = 0, out: str | Path | None = None, variant: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Train (resuming) the supernet or a comparison run, then export its EMA weights."""
    if variant not in TRAINING_VARIANTS:
        raise ValueError(f"sned trains {', '.join('sned' + (':' + v if v else '') for v in TRAINING_VARIANTS)}; "
                         f"got sned:{variant} (the presets s-32, m-32, ... are subnets of the trained supernet)")
    teacher_distill = float(kwargs.pop("teacher_distill", TEACHER_DISTILL))
    recipe = kwargs.pop("recipe", RECIPE)
    model, init_sha = load_init()
    # the frozen teacher: the network the supernet starts from, copied before any training step
    teacher = copy.deepcopy(model).eval().requires_grad_(False) if teacher_distill > 0 else None
    space = SearchSpace(model.unet.config)
    full = f"sned-{variant}" if variant else "sned"
    run_dir = kwargs.get("run_dir")
    if run_dir is None:
        from vbench_lite.fsutil import cache_dir

        run_dir = kwargs["run_dir"] = cache_dir("runs", run_name(variant, teacher_distill), f"seed{seed}")
    extra: dict[str, Any] = {"init": INIT, "init_sha256": init_sha, "space": _space_dict(space),
                             "teacher_distill": teacher_distill,
                             "teacher": f"frozen `{INIT}` (sha256 {init_sha})" if teacher_distill > 0 else None}
    if variant == f"standalone-{STANDALONE}":
        from vbench_lite.methods.backbone.flow_task import FlowMatchingTask
        from vbench_lite.methods.backbone.slicing import materialize
        from vbench_lite.methods.sned.presets import PRESETS

        arch = PRESETS[STANDALONE]
        sampler = make_sampler(space, model.unet)
        supernet_done = _supernet_steps()
        steps = steps or standalone_steps(sampler, arch, supernet_done, seed)
        student = copy.deepcopy(model)
        student.unet = materialize(model.unet, arch.widths, arch.skip).requires_grad_(True).train()
        extra["standalone"] = {"arch": arch.to_dict(), "supernet_steps": supernet_done,
                               "steps_rule": "supernet steps that drew this architecture's cost bucket at its resolution"}

        def make_task(_model: Any, clips: Any, recipe: Any) -> Any:
            if teacher is not None:
                from vbench_lite.methods.sned.task import TeacherDistillTask

                return TeacherDistillTask(student, teacher, clips, recipe, teacher_distill)
            return FlowMatchingTask(student, clips, recipe)

        unet_config = student.unet.config
    else:
        from vbench_lite.methods.sned.task import SupernetTask

        sampler = make_sampler(space, model.unet, warmup=variant != "no-warmup")
        steps = steps or (NO_WARMUP_STEPS if variant == "no-warmup" else SUPERNET_STEPS)
        extra["sampler"] = sampler.config()

        def make_task(_model: Any, clips: Any, recipe: Any) -> Any:
            return SupernetTask(model, _clips(space.resolutions, clips), recipe, sampler, teacher=teacher,
                                teacher_distill=teacher_distill)

        unet_config = model.unet.config
    out = Path(out) if out else weights_dir(variant)
    summary = train_flow_method(
        full, make_task, out=out, steps=steps, seed=seed,
        title="sned" + (f":{variant}" if variant else " supernet"),
        command=f"{TRAIN_COMMAND}{':' + variant if variant else ''} --steps {steps} --seed {seed}",
        unet=unet_config, recipe=recipe, sampler=SAMPLER, extra_config={"sned": extra},
        **kwargs,
    )
    append_training_notes(out / "TRAINING.md", variant, sampler, summary["steps"], steps, seed, recipe.lr,
                          teacher_distill)
    return summary


def append_training_notes(md: Path, variant: str | None, sampler: SupernetSampler, steps_done: int,
                          steps_planned: int, seed: int = 0, lr: float = RECIPE.lr,
                          teacher_distill: float = TEACHER_DISTILL) -> None:
    """Add what TRAINING.md's generic summary lacks: the search space, the cost buckets, the warm-up
    and what the steps trained (replayed from the seed)."""
    import collections

    lines = ["", "## SNED", "",
             f"- run: `sned{':' + variant if variant else ''}`, {steps_done} of {steps_planned} planned steps"
             + (" (partially trained: rerun the command to continue)" if steps_done < steps_planned else ""),
             f"- initialised from the shipped `{INIT}` weights; learning rate {lr:g} after {RECIPE.warmup_steps} "
             "warm-up steps (a fine-tuning rate: the baseline trained at 1e-3)",
             (f"- loss: (1 - {teacher_distill:g}) x flow matching + {teacher_distill:g} x MSE to the velocity of a "
              f"frozen copy of `{INIT}` (once-for-all's knowledge distillation), for every architecture trained"
              if teacher_distill > 0 else "- loss: flow matching only")]
    if variant == f"standalone-{STANDALONE}":
        from vbench_lite.methods.sned.presets import PRESETS

        arch = PRESETS[STANDALONE]
        lines.append(f"- standalone network of `{STANDALONE}` ({arch.label()}), the baseline's leading-channel weights "
                     f"copied in; trained with the supernet's loss at 32 px for the steps the supernet "
                     f"({_supernet_steps()} steps) drew this architecture's cost bucket at 32 px")
        md.write_text(md.read_text() + "\n".join(lines) + "\n")
        return
    space = sampler.space
    w = sampler.warmup
    lines += [f"- search space: widths per level {[list(c) for c in space.width_choices]}, "
              f"{len(space.skippable())} skippable blocks, resolutions {list(space.resolutions)} px; training pool "
              f"of {len(sampler.buckets.archs)} subnets (seed {POOL_SEED}: every (resolution, widths) without and "
              "with 7 random sets of 1-4 skipped blocks)",
              f"- sampling warm-up: largest network only for {w.warmup_steps} steps, then the share of sampled "
              f"subnets ramps to {w.final_share:g} over {w.ramp_steps} steps"
              + (" (off: this is the no-warm-up run)" if w.warmup_steps == 0 else ""),
              f"- clips: 6144 at 32 px, the first {EXTRA_CLIPS} of them at 24 and 48 px", "",
              "| cost bucket | GFLOPs per denoiser call (1 video) | rate | subnets | steps that trained it |",
              "|---:|---|---:|---:|---:|"]
    draws = replay_draws(sampler, steps_done, seed)
    count = collections.Counter(b for d in draws for b in d.buckets)
    res = collections.Counter(a.resolution for d in draws for a in d.archs)
    for row in sampler.buckets.describe():
        lines.append(f"| {row['bucket']} | {row['gflops_min']:.3f} - {row['gflops_max']:.3f} | {row['rate']:g} | "
                     f"{row['architectures']} | {count[int(row['bucket'])]} |")
    lines += [f"| largest | {space.config.widths} at 24/32/48 px | | 3 | {count[-1]} |", "",
              "steps per resolution: " + ", ".join(f"{r} px {res[r]}" for r in sorted(res))]
    md.write_text(md.read_text() + "\n".join(lines) + "\n")


def _supernet_steps() -> int:
    """Steps of the shipped supernet (its training summary), else the planned ``SUPERNET_STEPS``."""
    import json

    cfg = weights_dir(None) / "config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text()).get("training", {}).get("steps", SUPERNET_STEPS))
    return SUPERNET_STEPS


def _space_dict(space: SearchSpace) -> dict[str, Any]:
    return {"width_choices": [list(c) for c in space.width_choices], "resolutions": list(space.resolutions),
            "skippable": space.skippable(), "pool_seed": POOL_SEED, "num_buckets": NUM_BUCKETS}
