"""Cost profilers: FLOPs per generated video, parameters, latency and peak memory.

Adapters wrap their parts in :func:`stage` so every cost is split by stage.
"""

from vbench_lite.profile.stages import STAGES, current_stage, stage

__all__ = ["STAGES", "current_stage", "stage"]
