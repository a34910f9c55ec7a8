"""TPDiff inference: one :class:`~vbench_lite.methods.backbone.sampler.FlowSampler` per stage, Up +
renoise at every stage boundary.

Steps are split equally over the stages (10 + 10 + 10 for 30). Within stage k the model predicts
the stage-local velocity ``d x / d t'`` with ``t' = (t - e_k) / (s_k - e_k)``, so the stage's sampler
runs over the global times ``s_k -> e_k`` with ``span = s_k - e_k`` (a step moves ``x`` by
``dt / span * v``). A video depends only on its (prompt, seed): its first-stage noise and each
boundary's paired noise come from generators seeded by its own seed, and every call runs on the
canonical micro-batch shape of the backbone's generator.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import torch

from vbench_lite.methods.backbone.pipeline import LatentVideoGenerator, TextDenoiser, video_noise
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule, renoise_coefficients, up


def pyramid_samplers(
    schedule: PyramidSchedule, steps: int, *, solver: str = "euler", cfg_scale: float = 4.0, shift: float = 1.0,
) -> tuple[FlowSampler, ...]:
    """The stages' samplers in the order they run (coarsest first): ``steps / K`` uniform steps each."""
    k_all = schedule.num_stages
    if steps % k_all:
        raise ValueError(f"{steps} steps cannot be split equally over {k_all} stages")
    return tuple(
        FlowSampler.uniform(steps // k_all, solver=solver, cfg_scale=cfg_scale, shift=shift,
                            start=schedule.start(k), end=schedule.end(k), span=schedule.start(k) - schedule.end(k))
        for k in range(k_all - 1, -1, -1)
    )


def boundary_noise(seeds: list[int], k: int, shape: tuple[int, ...]) -> torch.Tensor:
    """``(z, -z)`` pairs for the boundary into stage k, row i from ``seeds[i]`` (batch-invariant)."""
    c, t, h, w = shape
    rows = []
    for s in seeds:
        g = torch.Generator().manual_seed(int(s) * 1009 + 17 * (k + 1))
        z = torch.randn((c, t // 2, h, w), generator=g)
        rows.append(torch.stack([z, -z], dim=2).reshape(c, t, h, w))
    return torch.stack(rows)


class PyramidVideoGenerator(LatentVideoGenerator):
    """The backbone's batch-invariant generator with TPDiff's temporal pyramid."""

    def __init__(
        self, model, autoencoder, stages: Sequence[FlowSampler], schedule: PyramidSchedule,  # type: ignore[no-untyped-def]
        micro_batch: int = 16, skip: Collection[str] = (),
    ) -> None:
        super().__init__(model, autoencoder, stages[0], micro_batch=micro_batch, skip=skip)
        self.schedule = schedule
        self.stages = tuple(stages)
        if len(self.stages) != schedule.num_stages:
            raise ValueError(f"{len(self.stages)} stage samplers for a {schedule.num_stages}-stage pyramid")
        for k, s in zip(self.stage_order, self.stages):
            if abs(s.times[0] - schedule.start(k)) > 1e-12 or abs(s.times[-1] - schedule.end(k)) > 1e-12:
                raise ValueError(f"stage {k}'s sampler runs {s.times[0]} -> {s.times[-1]}, "
                                 f"not the stage's {schedule.start(k)} -> {schedule.end(k)}")

    @property
    def stage_order(self) -> list[int]:
        """Stage indices in the order they run (``k = K - 1`` is the coarsest, first)."""
        return list(range(self.schedule.num_stages - 1, -1, -1))

    @property
    def samplers(self) -> tuple[FlowSampler, ...]:
        return self.stages

    def initial_noise(self, seeds: list[int], shape: tuple[int, ...]) -> torch.Tensor:
        c, frames, h, w = shape
        return video_noise(seeds, (c, self.schedule.frames(self.stage_order[0], frames), h, w))

    def denoise(self, denoiser: TextDenoiser, noise: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        sched, x = self.schedule, noise
        frames = x.shape[2] * sched.factor(self.stage_order[0])
        for k, sampler in zip(self.stage_order, self.stages):
            x = sampler.sample(denoiser.at(sched.frame_positions(k, frames).to(x.device)), x)
            if k > 0:  # Up to the next stage's frame count and renoise (pyramid.py)
                a, b = renoise_coefficients(sched.end(k))
                fine = up(x, 2)
                x = a * fine + b * boundary_noise(seeds, k - 1, tuple(fine.shape[1:])).to(x.device)
        return x
