"""Quality metrics: distribution distances (FVD, KVD), text alignment, VBench-style dimensions,
fidelity to the baseline."""

from vbench_lite.metrics.base import Metric, MetricContext
from vbench_lite.metrics.frechet import frechet_distance  # numpy only: light
from vbench_lite.metrics.kernel import kernel_distance

__all__ = ["Metric", "MetricContext", "frechet_distance", "kernel_distance"]
