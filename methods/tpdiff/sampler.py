"""TPDiff inference: an Euler solver within each stage, Up + renoise at every stage boundary.

Steps are split equally over the stages (10 + 10 + 10 for 30). Within stage k the model predicts
the stage-local velocity ``d x / d t'`` with ``t' = (t - e_k) / (s_k - e_k)``, so an Euler step
over the global time ``dt`` moves ``x`` by ``dt / (s_k - e_k) * v``. A video depends only on its
(prompt, seed): its first-stage noise and each boundary's paired noise come from generators
seeded by its own seed, and every call runs on the canonical micro-batch shape of the backbone's
generator.
"""

from __future__ import annotations

import torch

from vbench_lite.methods.backbone.flow import guided
from vbench_lite.methods.backbone.pipeline import LatentVideoGenerator, SamplerConfig, video_noise
from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule, renoise_coefficients, up
from vbench_lite.profile import stage


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
    """The backbone's batch-invariant generator with TPDiff's three-stage temporal pyramid."""

    def __init__(self, *args, schedule: PyramidSchedule | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.schedule = schedule or PyramidSchedule(3)
        if self.sampler.sampler != "euler":
            raise ValueError("the TPDiff sampler integrates each stage with Euler steps")
        if self.sampler.steps % self.schedule.num_stages:
            raise ValueError(
                f"{self.sampler.steps} steps cannot be split equally over {self.schedule.num_stages} stages"
            )

    def _micro_batch(self, prompts, seeds, shape, frame_index):  # type: ignore[no-untyped-def]
        model, sc, sched = self.model, self.sampler, self.schedule
        device = next(model.parameters()).device
        c, frames, h, w = shape
        with stage("text"):
            cond = model.encode_text(model.tokenize(prompts).to(device))
            uncond = model.encode_text(model.null_ids(len(prompts)).to(device))
        top = sched.num_stages - 1
        x = video_noise(seeds, (c, sched.frames(top, frames), h, w)).to(device)
        per_stage = sc.steps // sched.num_stages
        with stage("denoise"):
            for k in range(top, -1, -1):
                positions = sched.frame_positions(k, frames).to(device)
                if sc.cfg_scale == 1.0:
                    def velocity(x: torch.Tensor, t: float, positions: torch.Tensor = positions) -> torch.Tensor:
                        tt = torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)
                        return model.velocity(x, tt, cond, positions, self.skip)
                else:
                    velocity = guided(
                        lambda x, t, positions=positions: model.velocity_pair(x, t, cond, uncond, positions, self.skip),
                        sc.cfg_scale,
                    )
                span = sched.start(k) - sched.end(k)
                ts = sched.stage_times(k, per_stage, sc.shift).tolist()
                for t, t_next in zip(ts[:-1], ts[1:]):
                    x = x + (t_next - t) / span * velocity(x, t)
                if k > 0:  # Up to the next stage's frame count and renoise (pyramid.py)
                    a, b = renoise_coefficients(sched.end(k))
                    fine = up(x, 2)
                    x = a * fine + b * boundary_noise(seeds, k - 1, tuple(fine.shape[1:])).to(device)
        with stage("decode"):
            return self.autoencoder.decode_video(x).cpu()


def tpdiff_sampler(steps: int = 30, cfg_scale: float = 4.0) -> SamplerConfig:
    return SamplerConfig(steps=steps, sampler="euler", cfg_scale=cfg_scale, shift=1.0)
