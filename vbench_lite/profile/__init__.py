"""Cost profilers: FLOPs per generated video, parameters, latency, peak memory, utilisation.

Adapters wrap their parts in :func:`stage` so every cost is split by stage. Public API:
:func:`count_flops`, :func:`measure_latency`, :func:`profile_method` (imported lazily so that
importing this package for ``stage`` does not import fvcore).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vbench_lite.profile.stages import STAGES, current_stage, listening, stage

if TYPE_CHECKING:
    from vbench_lite.profile.breakdown import DenoiserBreakdown, denoiser_breakdown
    from vbench_lite.profile.flops import FlopReport, UncountedOpError, count_flops
    from vbench_lite.profile.latency import LatencyReport, measure_latency
    from vbench_lite.profile.method_profile import MethodError, profile_method

__all__ = [
    "STAGES", "DenoiserBreakdown", "FlopReport", "LatencyReport", "MethodError", "UncountedOpError",
    "count_flops", "current_stage", "denoiser_breakdown", "listening", "measure_latency",
    "profile_method", "stage",
]

_LAZY = {
    "DenoiserBreakdown": "breakdown", "denoiser_breakdown": "breakdown",
    "FlopReport": "flops", "UncountedOpError": "flops", "count_flops": "flops",
    "LatencyReport": "latency", "measure_latency": "latency",
    "MethodError": "method_profile", "profile_method": "method_profile",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"vbench_lite.profile.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'vbench_lite.profile' has no attribute {name!r}")
