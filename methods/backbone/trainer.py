"""One trainer for every method: a :class:`TrainingTask` supplies models, optimisers, data and the
loss; :class:`Trainer` owns the loop (AdamW, warm-up, gradient clipping, EMA, logging of loss,
throughput and cumulative training FLOPs, periodic checkpoints, resume).

A task's ``train_step`` calls ``ctx.update(optimizer_name, loss)`` once per optimiser it steps, so
a plain denoiser (one update), an adversarial method (discriminator then generator) or a
weight-sharing supernet (several subnets, one optimiser) all plug into the same loop. The
alternating generator/discriminator step is ``ctx.alternate(("discriminator", d_loss), ("generator",
g_loss))``: each loss is computed and stepped inside ``ctx.only(optimizer)``, where the parameters
of every other model have ``requires_grad`` off, so a discriminator step builds no graph through
(and never updates) the generator, and the reverse; both optimisers live in one checkpoint. Data and
randomness are functions of (seed, step), so a resumed run continues exactly where it stopped.

Training FLOPs (FLOPs = 2 x multiply-accumulates, forward + backward, matmul/conv/attention as
``torch.utils.flop_counter`` counts them) are measured on the first step of each distinct batch
shape (``task.flops_key``) and accumulated from then on.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import io
import json
import logging
import math
import re
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vbench_lite.methods.backbone.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)

STEP_DIR = re.compile(r"^step_(\d{7})$")
LOG_FILE = "train_log.jsonl"


@dataclass(frozen=True)
class OptimizerConfig:
    """AdamW over the parameters of ``models``; linear warm-up then constant learning rate."""

    models: tuple[str, ...]
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0
    warmup_steps: int = 0
    grad_clip: float | None = 1.0
    # (name prefix, multiplier): parameters named "<model>.<parameter>" that start with the prefix train
    # at lr x multiplier (first match wins; 0 freezes them), e.g. (("model.text_encoder.", 0.1),).
    lr_scale: tuple[tuple[str, float], ...] = ()

    def scale_of(self, name: str) -> float:
        return next((m for prefix, m in self.lr_scale if name.startswith(prefix)), 1.0)


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 200
    ema_decay: float = 0.999
    time_budget_s: float | None = None  # stop (with a checkpoint) once this much time has run
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"--steps must be at least 1, got {self.steps}")
        if self.checkpoint_every < 1 or self.log_every < 1:
            raise ValueError("checkpoint_every and log_every must be at least 1")


class TrainingTask(abc.ABC):
    """What a method supplies to be trained by :class:`Trainer`."""

    name: str = "task"
    ema_models: tuple[str, ...] = ()

    @abc.abstractmethod
    def models(self) -> dict[str, nn.Module]:
        """Every trained (and EMA'd) module by name; the same objects on every call."""

    @abc.abstractmethod
    def optimizers(self) -> dict[str, OptimizerConfig]:
        """Optimiser name -> which models it updates and how."""

    @abc.abstractmethod
    def batch(self, step: int, generator: torch.Generator) -> Any:
        """The training batch of ``step`` (a function of the step and the generator only)."""

    @abc.abstractmethod
    def train_step(self, ctx: StepContext, batch: Any) -> dict[str, float]:
        """Compute losses and call ``ctx.update(opt, loss)``; return extra scalars to log."""

    def batch_examples(self, batch: Any) -> int:
        """Number of training examples in a batch (for throughput)."""
        return int(batch[0].shape[0]) if isinstance(batch, (tuple, list)) else int(batch.shape[0])

    def flops_key(self, batch: Any) -> Hashable:
        """Batches with equal keys cost equal FLOPs (default: the shapes of the tensors)."""
        items = batch if isinstance(batch, (tuple, list)) else (batch,)
        return tuple(tuple(x.shape) for x in items if isinstance(x, torch.Tensor))

    def config(self) -> dict[str, Any]:
        """JSON-serialisable description stored in every checkpoint."""
        return {"task": self.name}


@dataclass
class StepContext:
    """Handed to ``TrainingTask.train_step``: the step, its generator, and ``update``."""

    step: int
    generator: torch.Generator
    trainer: Trainer
    losses: dict[str, float] = field(default_factory=dict)

    def update(self, optimizer: str, loss: torch.Tensor) -> None:
        """Backward ``loss``, clip, and step optimiser ``optimizer`` (warm-up applied)."""
        self.trainer._update(self, optimizer, loss)

    @contextlib.contextmanager
    def only(self, optimizer: str) -> Iterator[None]:
        """Within the block only the models of ``optimizer`` have trainable parameters; the other
        models' ``requires_grad`` flags are switched off and restored afterwards."""
        own = set(self.trainer.optimizer_config(optimizer).models)
        frozen = [p for name, m in self.trainer.models.items() if name not in own
                  for p in m.parameters() if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in frozen:
                p.requires_grad_(True)

    def alternate(self, *players: tuple[str, Callable[[], torch.Tensor]]) -> None:
        """One update per ``(optimizer, loss_fn)`` in order, each loss computed inside ``only(optimizer)``."""
        for optimizer, loss_fn in players:
            with self.only(optimizer):
                self.update(optimizer, loss_fn())


class Trainer:
    """Runs a :class:`TrainingTask` into ``out_dir``, resuming from its latest checkpoint."""

    def __init__(self, task: TrainingTask, config: TrainConfig, out_dir: str | Path) -> None:
        self.task = task
        self.config = config
        self.out_dir = Path(out_dir)
        self.models = task.models()
        self.opt_configs = task.optimizers()
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        for oname, oc in self.opt_configs.items():
            unknown = [m for m in oc.models if m not in self.models]
            if unknown:
                raise ValueError(f"optimizer {oname!r} names unknown models {unknown}")
            groups: dict[float, list[torch.nn.Parameter]] = {}
            for m in oc.models:
                for pname, p in self.models[m].named_parameters():
                    if p.requires_grad:
                        groups.setdefault(oc.scale_of(f"{m}.{pname}"), []).append(p)
            self.optimizers[oname] = torch.optim.AdamW(
                [{"params": ps, "lr_scale": k} for k, ps in groups.items()],
                lr=oc.lr, betas=oc.betas, weight_decay=oc.weight_decay,
            )
        self.ema: dict[str, nn.Module] = {}
        for m in task.ema_models:
            self.ema[m] = copy.deepcopy(self.models[m]).requires_grad_(False).eval()
        self.step = 0
        self.train_flops = 0.0
        self.examples = 0
        # FLOPs per batch signature (str of ``task.flops_key``); restored on resume so a resumed run
        # counts (and so dispatches) exactly like an uninterrupted one.
        self._flops_cache: dict[str, float] = {}

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoints(self) -> list[Path]:
        """Complete checkpoint folders (with a manifest), oldest first."""
        if not self.out_dir.is_dir():
            return []
        found = [p for p in self.out_dir.iterdir() if STEP_DIR.match(p.name) and (p / "manifest.json").is_file()]
        return sorted(found)

    def save(self) -> Path:
        tensors = {name: m.state_dict() for name, m in self.models.items()}
        tensors.update({f"{name}.ema": m.state_dict() for name, m in self.ema.items()})
        state = {
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "step": self.step,
        }
        buf = io.BytesIO()
        torch.save(state, buf)
        config = {
            "task": self.task.config(),
            "train": asdict(self.config),
            "step": self.step,
            "train_flops": self.train_flops,
            "train_flops_unit": "FLOPs (2 x MAC), forward + backward",
            "examples_seen": self.examples,
            "flops_per_batch": dict(self._flops_cache),
        }
        folder = save_checkpoint(
            self.out_dir / f"step_{self.step:07d}", tensors, config, {"trainer_state.pt": buf.getvalue()}
        )
        logger.info("saved checkpoint %s", folder)
        return folder

    def resume(self) -> bool:
        """Load the latest complete checkpoint of ``out_dir``; False when there is none."""
        for folder in reversed(self.checkpoints()):
            try:
                tensors, config, _ = load_checkpoint(folder)
            except CheckpointError as exc:
                logger.warning("skipping unusable checkpoint: %s", exc)
                continue
            for name, m in self.models.items():
                m.load_state_dict(tensors[name])
            for name, m in self.ema.items():
                m.load_state_dict(tensors[f"{name}.ema"])
            state = torch.load(io.BytesIO((folder / "trainer_state.pt").read_bytes()), weights_only=True)
            for k, o in self.optimizers.items():
                o.load_state_dict(state["optimizers"][k])
            self.step = int(config["step"])
            self.train_flops = float(config["train_flops"])
            self.examples = int(config["examples_seen"])
            self._flops_cache = {str(k): float(v) for k, v in config.get("flops_per_batch", {}).items()}
            logger.info("resumed from %s at step %d", folder, self.step)
            return True
        return False

    # -- the loop ------------------------------------------------------------------------------
    def optimizer_config(self, oname: str) -> OptimizerConfig:
        if oname not in self.optimizers:
            raise ValueError(f"unknown optimizer {oname!r}; the task declared {sorted(self.optimizers)}")
        return self.opt_configs[oname]

    def _update(self, ctx: StepContext, oname: str, loss: torch.Tensor) -> None:
        self.optimizer_config(oname)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite {oname} loss {loss.item()} at step {ctx.step}")
        opt, oc = self.optimizers[oname], self.opt_configs[oname]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        params = [p for g in opt.param_groups for p in g["params"] if p.grad is not None]
        if oc.grad_clip is not None:
            gnorm = torch.nn.utils.clip_grad_norm_(params, oc.grad_clip)
            ctx.losses[f"{oname}_grad_norm"] = float(gnorm)
        scale = min(1.0, (ctx.step + 1) / oc.warmup_steps) if oc.warmup_steps else 1.0
        for g in opt.param_groups:
            g["lr"] = oc.lr * scale * g.get("lr_scale", 1.0)
        opt.step()
        ctx.losses[f"{oname}_loss"] = float(loss.detach())

    @torch.no_grad()
    def _update_ema(self) -> None:
        # EMA with the usual warm-up (decay grows as (1 + n) / (10 + n) until it reaches the target).
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        for name, ema in self.ema.items():
            for pe, p in zip(ema.parameters(), self.models[name].parameters()):
                pe.lerp_(p.detach(), 1.0 - decay)
            for be, b in zip(ema.buffers(), self.models[name].buffers()):
                be.copy_(b)

    def _one_step(self, step: int) -> dict[str, float]:
        gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + step)
        batch = self.task.batch(step, gen)
        ctx = StepContext(step=step, generator=gen, trainer=self)
        key = str(self.task.flops_key(batch))
        if key not in self._flops_cache:
            from torch.utils.flop_counter import FlopCounterMode

            counter = FlopCounterMode(display=False)
            with counter:
                extra = self.task.train_step(ctx, batch)
            self._flops_cache[key] = float(counter.get_total_flops())
        else:
            extra = self.task.train_step(ctx, batch)
        self.train_flops += self._flops_cache[key]
        self.examples += self.task.batch_examples(batch)
        return {**ctx.losses, **extra}

    def run(self) -> Path:
        """Train to ``config.steps`` (resuming if possible); returns the last checkpoint folder."""
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        self.resume()
        for m in self.models.values():
            m.train()
        log_path = self.out_dir / LOG_FILE
        self.out_dir.mkdir(parents=True, exist_ok=True)
        t_start = time.perf_counter()
        t_log, ex_log = t_start, self.examples
        last = self.checkpoints()[-1] if self.checkpoints() else None
        sums: dict[str, float] = {}
        n_sum = 0
        while self.step < self.config.steps:
            logs = self._one_step(self.step)
            self.step += 1
            self._update_ema()
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
            n_sum += 1
            out_of_time = (
                self.config.time_budget_s is not None
                and time.perf_counter() - t_start > self.config.time_budget_s
            )
            done = self.step >= self.config.steps or out_of_time
            if self.step % self.config.log_every == 0 or done:
                now = time.perf_counter()
                row = {
                    "step": self.step,
                    **{k: v / n_sum for k, v in sums.items()},
                    "examples_per_s": (self.examples - ex_log) / max(now - t_log, 1e-9),
                    "train_flops": self.train_flops,
                    "elapsed_s": now - t_start,
                }
                with log_path.open("a") as f:
                    f.write(json.dumps(row) + "\n")
                logger.info(
                    "step %d %s | %.1f ex/s | %.3g train FLOPs",
                    self.step,
                    " ".join(f"{k}={v / n_sum:.4f}" for k, v in sums.items() if k.endswith("loss")),
                    row["examples_per_s"], self.train_flops,
                )
                sums, n_sum, t_log, ex_log = {}, 0, now, self.examples
            if self.step % self.config.checkpoint_every == 0 or done:
                last = self.save()
            if out_of_time:
                logger.warning("time budget of %.0f s used up at step %d", self.config.time_budget_s, self.step)
                break
        if last is None:  # already trained to the requested step count
            last = self.save()
        return last


def read_log(out_dir: str | Path) -> list[dict[str, Any]]:
    """Rows of ``train_log.jsonl`` (later rows for a step replace earlier ones after a resume)."""
    path = Path(out_dir) / LOG_FILE
    if not path.is_file():
        return []
    rows: dict[int, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            rows[int(r["step"])] = r
    return [rows[k] for k in sorted(rows)]


def summarize_log(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    """First / last logged value of ``key`` and the final cumulative FLOPs."""
    vals = [r[key] for r in rows if key in r and math.isfinite(r[key])]
    if not vals:
        return {}
    return {"first": vals[0], "last": vals[-1], "train_flops": rows[-1].get("train_flops", 0.0)}
