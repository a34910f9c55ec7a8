"""Quality metrics: distribution distances (FVD, KVD), text alignment, VBench-style dimensions,
fidelity to the baseline."""

from vbench_lite.metrics.base import Metric, MetricContext

__all__ = ["Metric", "MetricContext"]
