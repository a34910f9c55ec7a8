"""A sampling schedule applied to a real architecture: FLOPs per video by stage and per call.

``project(arch, schedule)`` counts one call of every part on the meta device (text encoders once
per prompt, twice with CFG for the negative prompt as the diffusers pipelines do; the denoiser once
per pyramid stage at that stage's latent grid; the VAE decoder once at the last stage's grid) and
multiplies by the calls the schedule makes. Counts are memoised by (component config, input shape),
so a table of many schedules over the same architecture builds and counts each shape once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from vbench_lite.profile.flops import UNIT
from vbench_lite.profile.real_scale import families
from vbench_lite.profile.real_scale.architecture import Architecture, build
from vbench_lite.profile.real_scale.count import CallCost, count_call, parameter_count
from vbench_lite.profile.real_scale.families import LatentGrid
from vbench_lite.profile.real_scale.schedule import SamplingSchedule

logger = logging.getLogger(__name__)

# The VAE parameters a decode does not use.
_ENCODER_PREFIXES = ("encoder.", "quant_conv.")


@dataclass(frozen=True)
class PartCost:
    """``calls`` calls of one part of the pipeline at ``per_call`` each."""

    part: str  # "text_encoder:<class>", "denoiser", "vae_decoder"
    stage: str  # "text" | "denoise" | "decode"
    calls: int
    per_call: CallCost
    params: int
    grid: LatentGrid | None = None
    steps: int = 0

    @property
    def total(self) -> int:
        return self.calls * self.per_call.total

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"part": self.part, "stage": self.stage, "calls": self.calls, "flops": self.total,
                               "per_call": self.per_call.to_dict(), "params": self.params}
        if self.grid is not None:
            g = self.grid
            out["latent_grid"] = {"channels": g.channels, "frames": g.frames, "height": g.height, "width": g.width}
        if self.steps:
            out["steps"] = self.steps
        return out


@dataclass(frozen=True)
class RealScaleProfile:
    architecture: str
    changes: tuple[str, ...]
    schedule: SamplingSchedule
    frames: int
    height: int
    width: int
    parts: tuple[PartCost, ...]
    unit: str = UNIT

    @property
    def total(self) -> int:
        return sum(p.total for p in self.parts)

    def stage_total(self, stage: str) -> int:
        return sum(p.total for p in self.parts if p.stage == stage)

    @property
    def by_stage(self) -> dict[str, int]:
        return {s: self.stage_total(s) for s in ("text", "denoise", "decode")}

    @property
    def attention(self) -> int:
        return sum(p.calls * p.per_call.attention for p in self.parts)

    @property
    def convolution(self) -> int:
        return sum(p.calls * p.per_call.convolution for p in self.parts)

    @property
    def params(self) -> dict[str, int]:
        seen: dict[str, int] = {}
        for p in self.parts:
            seen.setdefault(p.part, p.params)
        return seen

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "architecture": self.architecture,
            "architecture_changes": list(self.changes),
            "frames": self.frames, "height": self.height, "width": self.width,
            "schedule": self.schedule.to_dict(),
            "flops_per_video": self.total,
            "by_stage": self.by_stage,
            "split": {"attention": self.attention, "convolution": self.convolution,
                      "matmul": self.total - self.attention - self.convolution},
            "params": self.params,
            "parts": [p.to_dict() for p in self.parts],
            "device": "meta (shapes only: no weights read, no parameter memory)",
        }


def _key(component: dict[str, Any]) -> str:
    return json.dumps({k: component[k] for k in ("library", "class", "config_class", "config") if k in component},
                      sort_keys=True)


@lru_cache(maxsize=16)
def _built(key: str) -> Any:
    return build(json.loads(key))


@lru_cache(maxsize=512)
def _cost(arch_key: str, part: str, shape: tuple[int, ...], arch: Architecture) -> tuple[CallCost, int]:
    if part == "denoiser":
        model = _built(_key(arch.denoiser))
        return count_call(families.denoiser_call(arch, model, LatentGrid(*shape))), parameter_count(model)
    if part == "vae_decoder":
        model = _built(_key(arch.vae))
        return count_call(families.decoder_call(arch, model, LatentGrid(*shape))), parameter_count(model, _ENCODER_PREFIXES)
    index, tokens = shape
    te = arch.text_encoders[index]
    model = _built(_key(te))
    return count_call(families.text_call(model, tokens, 1)), parameter_count(model)


def _arch_key(arch: Architecture) -> str:
    return json.dumps([arch.family, arch.raw], sort_keys=True)


def project(arch: Architecture, schedule: SamplingSchedule, frames: int | None = None,
            height: int | None = None, width: int | None = None) -> RealScaleProfile:
    """FLOPs per video of ``schedule`` on ``arch`` at ``frames x height x width`` (default: the
    pipeline's defaults, ``arch.sampling``)."""
    s = arch.sampling
    frames, height, width = frames or s["frames"], height or s["height"], width or s["width"]
    full = families.latent_grid(arch, frames, height, width)
    pt, ps = families.patch_sizes(arch)
    key = _arch_key(arch)
    parts: list[PartCost] = []
    prompts = schedule.passes  # the negative prompt is encoded too under CFG
    for i, te in enumerate(arch.text_encoders):
        cost, params = _cost(key, "text", (i, te["tokens"]), arch)
        parts.append(PartCost(f"text_encoder:{te['class']}", "text", prompts, cost, params))
    grid = full
    for st in schedule.stages:
        grid = full.scaled(st.frames_scale, st.resolution_scale, ps, pt)
        cost, params = _cost(key, "denoiser", (grid.channels, grid.frames, grid.height, grid.width), arch)
        parts.append(PartCost("denoiser", "denoise", st.evaluations * schedule.passes, cost, params, grid, st.steps))
    if arch.vae is not None:
        cost, params = _cost(key, "vae_decoder", (grid.channels, grid.frames, grid.height, grid.width), arch)
        parts.append(PartCost("vae_decoder", "decode", 1, cost, params, grid))
    logger.info("projected %s on %s: %.3e %s per video", schedule.describe(), arch.name, sum(p.total for p in parts), UNIT)
    return RealScaleProfile(arch.name, arch.changes, schedule, frames, height, width, tuple(parts))
