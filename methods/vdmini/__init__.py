"""``vdmini``: VDMini, "Individual Content and Motion Dynamics Preserved Pruning for Video Diffusion
Models" (Wu, Chen, Wang, Xu; ACM MM 2025; arXiv 2411.18375).

The baseline (the teacher) with its shallow blocks physically pruned, fine-tuned with
``L_task + 0.1 L_ICD + 1.0 L_MCA``; same sampler as the teacher (30 Euler steps with CFG). The
paper's idea only, on the shared backbone: block importance (:mod:`.importance`), the pruning rule
(:mod:`.pruning`), the Individual Content Distillation (:mod:`.icd`) and Multi-frame Content
Adversarial (:mod:`.mca`) losses, the fine-tuning task and recipe (:mod:`.task`, :mod:`.recipe`).
Variants are the paper's ablations: ``task-only``, ``icd``, ``mca`` and ``magnitude`` (L1 channel
pruning to the same parameter count, task loss only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from vbench_lite.methods.backbone.adapter import BackboneMethod

__all__ = ["VDMiniMethod"]


class VDMiniMethod(BackboneMethod):
    """VDMini: shallow blocks pruned by importance, recovered with ICD + MCA."""

    name: ClassVar[str] = "vdmini"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = {
        "task-only": "same pruned student fine-tuned with the flow-matching loss only (ablation)",
        "icd": "task + 0.1 ICD, no adversarial term (ablation)",
        "mca": "task + 1.0 MCA, no feature distillation (ablation)",
        "magnitude": "L1-magnitude channel pruning to the same parameter count, task loss only (ablation)",
    }
    train_command: ClassVar[str] = "python -m vbench_lite train --method vdmini"

    def default_weights(self, variant: str | None) -> Path:
        from vbench_lite.methods.vdmini.recipe import weights_dir

        return weights_dir(variant)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["vdmini"] = self._info["config"].get("vdmini", {})
        return info

    @staticmethod
    def train(steps: int | None = None, seed: int = 0, out: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """``python -m vbench_lite train --method vdmini[:VARIANT]``: see :mod:`.recipe`."""
        from vbench_lite.methods.vdmini.recipe import train_vdmini

        return train_vdmini(steps=steps, seed=seed, out=out, **kwargs)
