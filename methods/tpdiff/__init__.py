"""``tpdiff``: TPDiff, a temporal-pyramid video diffusion model (Ran and Shou, arXiv 2503.09566).

Three stages over the flow-matching time axis at T/4, T/2 and T frames (10 + 10 + 10 Euler steps
with CFG, 60 denoiser evaluations per video, most of them on fewer frames), trained on the
baseline's data, recipe and step count with data-noise alignment; ``tpdiff:no-align`` is the same
without alignment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from vbench_lite.methods.baseline import BaselineMethod

__all__ = ["TPDiffMethod"]


class TPDiffMethod(BaselineMethod):
    """TPDiff temporal pyramid: 3 stages at T/4, T/2, T frames, 10+10+10 Euler steps with CFG."""

    name: ClassVar[str] = "tpdiff"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = {"no-align": "trained without data-noise alignment (ablation)"}

    def __init__(self, variant: str | None = None, weights: str | Path | None = None,
                 autoencoder: str | Path | None = None) -> None:
        from vbench_lite.methods.tpdiff.recipe import weights_dir

        super().__init__(variant, weights or weights_dir(variant), autoencoder)

    train_command: ClassVar[str] = "python -m vbench_lite train --method tpdiff"

    def make_generator(self, model: Any, autoencoder: Any, sampler: Any) -> Any:
        from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule
        from vbench_lite.methods.tpdiff.recipe import STAGES
        from vbench_lite.methods.tpdiff.sampler import PyramidVideoGenerator

        return PyramidVideoGenerator(model, autoencoder, sampler, micro_batch=self.micro_batch,
                                     schedule=PyramidSchedule(STAGES))

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["stages"] = [{"frames": 16 // 2**k, "steps": 10} for k in (2, 1, 0)]
        return info

    @staticmethod
    def train(steps: int | None = None, seed: int = 0, out: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """``python -m vbench_lite train --method tpdiff[:no-align]``: see :mod:`.recipe`."""
        from vbench_lite.methods.baseline.recipe import DEFAULT_STEPS
        from vbench_lite.methods.tpdiff.recipe import train_tpdiff

        return train_tpdiff(steps=steps or DEFAULT_STEPS, seed=seed, out=out, **kwargs)
