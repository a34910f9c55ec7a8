"""Real-scale cost: a method's sampling schedule projected onto real video diffusion models.

Real architectures (Wan2.1, CogVideoX, LTX-Video, HunyuanVideo, AnimateDiff) are built from their
shipped public configurations on PyTorch's ``meta`` device, so FLOPs per video (text encoders,
denoiser per pyramid stage, VAE decoder) and parameters are counted in seconds with no weights and
no parameter memory. Needs the ``real`` extra (diffusers, transformers). Public API:
:func:`load_architecture`, :func:`list_architectures`, :func:`project`, :class:`SamplingSchedule`,
:func:`method_schedule`.
"""

from __future__ import annotations

from vbench_lite.profile.real_scale.architecture import (
    Architecture,
    build,
    list_architectures,
    load_architecture,
)
from vbench_lite.profile.real_scale.schedule import (
    SamplingSchedule,
    Stage,
    method_schedule,
    schedule_from_description,
)

__all__ = [
    "Architecture", "RealScaleProfile", "SamplingSchedule", "Stage", "build", "list_architectures",
    "load_architecture", "method_schedule", "project", "schedule_from_description",
]


def __getattr__(name: str):
    if name in ("project", "RealScaleProfile"):
        from vbench_lite.profile.real_scale import projection

        return getattr(projection, name)
    raise AttributeError(f"module 'vbench_lite.profile.real_scale' has no attribute {name!r}")
