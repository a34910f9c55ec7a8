"""``tpdiff``: TPDiff, a temporal-pyramid video diffusion model (Ran and Shou, arXiv 2503.09566).

Three stages over the flow-matching time axis at T/4, T/2 and T frames (10 + 10 + 10 Euler steps
with CFG, 60 denoiser evaluations per video, most of them on fewer frames), trained on the
baseline's data, recipe and step count with data-noise alignment; ``tpdiff:no-align`` is the same
without alignment. A checkpoint of the generic backbone adapter whose generator is the pyramid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from vbench_lite.methods.backbone.adapter import BackboneMethod

__all__ = ["TPDiffMethod"]

WEIGHTS_ROOT = Path(__file__).resolve().parent / "weights"
STAGES = 3


def weights_dir(variant: str | None) -> Path:
    return WEIGHTS_ROOT / (variant or "align")


class TPDiffMethod(BackboneMethod):
    """TPDiff temporal pyramid: 3 stages at T/4, T/2, T frames, 10+10+10 Euler steps with CFG."""

    name: ClassVar[str] = "tpdiff"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = {"no-align": "trained without data-noise alignment (ablation)"}
    train_command: ClassVar[str] = "python -m vbench_lite train --method tpdiff"

    def default_weights(self, variant: str | None) -> Path:
        return weights_dir(variant)

    def make_generator(self, model: Any, autoencoder: Any, config: dict[str, Any]) -> Any:
        """The pyramid generator: ``config["sampler"]`` is ``{"stages": [FlowSampler config, ...]}``
        (coarsest first) or one sampler whose steps are split equally over the stages (the shipped
        checkpoints: 30 uniform steps -> 10 + 10 + 10)."""
        from vbench_lite.methods.backbone.sampler import FlowSampler
        from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule
        from vbench_lite.methods.tpdiff.sampler import PyramidVideoGenerator, pyramid_samplers

        schedule = PyramidSchedule(int(config.get("pyramid", {}).get("stages", STAGES)))
        sc = config["sampler"]
        if "stages" in sc:
            stages = tuple(FlowSampler.from_config(s) for s in sc["stages"])
        else:
            whole = FlowSampler.from_config(sc)
            stages = pyramid_samplers(schedule, whole.steps, solver=whole.solver, cfg_scale=whole.cfg_scale,
                                      shift=float(sc.get("shift", 1.0)))
        return PyramidVideoGenerator(model, autoencoder, stages, schedule, micro_batch=self.micro_batch,
                                     skip=self.skip)

    def stage_frames(self) -> list[int]:
        gen = self.generator
        return [gen.schedule.frames(k, self.frames) for k in gen.stage_order]

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        gen = self.generator
        info["stages"] = [{"frames": f, "steps": s.steps} for f, s in zip(self.stage_frames(), gen.samplers)]
        return info

    @staticmethod
    def train(steps: int | None = None, seed: int = 0, out: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """``python -m vbench_lite train --method tpdiff[:no-align]``: see :mod:`.recipe`."""
        from vbench_lite.methods.tpdiff.recipe import train_tpdiff

        return train_tpdiff(steps=steps, seed=seed, out=out, **kwargs)
