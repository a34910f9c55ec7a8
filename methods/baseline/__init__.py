"""The ``baseline`` method: the full-cost latent video diffusion model every efficient method is
measured against. 30 Euler steps with classifier-free guidance (60 denoiser evaluations per video),
16 frames at 32x32, on the shared backbone (:mod:`vbench_lite.methods.backbone`): a checkpoint of
the generic :class:`~vbench_lite.methods.backbone.adapter.BackboneMethod`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from vbench_lite.methods.backbone.adapter import BackboneMethod

__all__ = ["BaselineMethod"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class BaselineMethod(BackboneMethod):
    """Full-cost baseline: space-time UNet latent flow matching, 30 Euler steps with CFG."""

    name: ClassVar[str] = "baseline"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = {}
    train_command: ClassVar[str] = "python -m vbench_lite train --method baseline"

    def default_weights(self, variant: str | None) -> Path:
        return WEIGHTS_DIR

    @staticmethod
    def train(steps: int | None = None, seed: int = 0, out: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """``python -m vbench_lite train --method baseline``: plain flow matching (:mod:`.recipe`)."""
        from vbench_lite.methods.baseline.recipe import train_baseline

        return train_baseline(steps=steps, seed=seed, out=out, **kwargs)
