"""VBench-lite: VBench's quality and semantic dimensions on a pluggable backbone.

Per-video public functions take one uint8 video ``[T, C, H, W]`` (plus a backbone where needed)::

    subject_consistency(video, features)     background_consistency(video, features)
    temporal_flickering(video)               motion_smoothness(video)
    dynamic_degree(video, flow=None, fps=8)  measure_objects(video) -> color / multiple_objects /
                                             spatial_relationship / motion_direction (+ attributes)

``metric.VBenchLite`` (registered as the metric ``vbench``) runs them all through the harness and
aggregates them into Quality, Semantic and Total with ``aggregate.py``'s constants.
"""

from vbench_lite.metrics.vbench.aggregate import (
    DIM_WEIGHT,
    DIMENSIONS,
    QUALITY_DIMENSIONS,
    SEMANTIC_DIMENSIONS,
    VBENCH_CONSTANTS,
    aggregate_dimensions,
    constant_for,
)
from vbench_lite.metrics.vbench.quality import (
    background_consistency,
    consistency_from_features,
    dynamic_degree,
    motion_smoothness,
    subject_consistency,
    temporal_flickering,
)
from vbench_lite.metrics.vbench.semantic import (
    color,
    measure_objects,
    motion_direction,
    multiple_objects,
    object_class,
    spatial_relationship,
)

__all__ = [
    "DIMENSIONS", "DIM_WEIGHT", "QUALITY_DIMENSIONS", "SEMANTIC_DIMENSIONS", "VBENCH_CONSTANTS",
    "aggregate_dimensions", "background_consistency", "color", "consistency_from_features",
    "constant_for", "dynamic_degree", "measure_objects", "motion_direction", "motion_smoothness",
    "multiple_objects", "object_class", "spatial_relationship", "subject_consistency",
    "temporal_flickering",
]
