"""Benchmark suites: the embedded procedural ``shapes`` domain and folder-of-videos suites."""

from vbench_lite.suites.base import Suite, VideoItem

__all__ = ["Suite", "VideoItem"]
