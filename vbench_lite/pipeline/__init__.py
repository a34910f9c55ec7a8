"""The run pipeline: generation in canonical micro-batches, scoring, profiling, results."""

from vbench_lite.pipeline.runner import RunOutput, evaluate_method, run

__all__ = ["RunOutput", "evaluate_method", "run"]
