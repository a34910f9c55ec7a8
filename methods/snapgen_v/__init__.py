"""``snapgen-v``: SnapGen-V, "Generating a Five-Second Video within Five Seconds on a Mobile Device"
(Wu et al., CVPR 2025, arXiv 2412.10494).

The baseline's temporal layers searched under a latency budget (:mod:`.search` over :mod:`.space`,
on the backbone's lookup table and evolutionary search), the chosen architecture trained with the
flow-matching loss, then adversarially fine-tuned to 4 fixed steps without CFG (:mod:`.adversarial`,
:mod:`.recipe`): 4 denoiser calls per video. Variants are the issue's ablations: ``no-adv`` (the
searched architecture after flow-matching training, 4 plain Euler steps, no CFG) and
``baseline-arch`` (the adversarial 4-step fine-tuning applied to the unsearched baseline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from vbench_lite.methods.backbone.adapter import BackboneMethod

__all__ = ["SnapGenVMethod"]

WEIGHTS_ROOT = Path(__file__).resolve().parent / "weights"


def weights_dir(variant: str | None) -> Path:
    return WEIGHTS_ROOT / (variant or "adv")


class SnapGenVMethod(BackboneMethod):
    """SnapGen-V: searched temporal layers, adversarial 4-step sampling without CFG."""

    name: ClassVar[str] = "snapgen-v"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = {
        "no-adv": "the searched architecture after flow-matching training only, 4 Euler steps, no CFG (ablation)",
        "baseline-arch": "the adversarial 4-step fine-tuning applied to the unsearched baseline architecture (ablation)",
    }
    train_command: ClassVar[str] = "python -m vbench_lite train --method snapgen-v"

    def default_weights(self, variant: str | None) -> Path:
        return weights_dir(variant)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["snapgen_v"] = self._info["config"].get("snapgen_v", {})
        return info

    @staticmethod
    def train(steps: int | None = None, seed: int = 0, out: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """``python -m vbench_lite train --method snapgen-v[:VARIANT]``: see :mod:`.recipe`."""
        from vbench_lite.methods.snapgen_v.recipe import train_snapgen_v

        return train_snapgen_v(steps=steps, seed=seed, out=out, **kwargs)
