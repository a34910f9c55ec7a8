"""Benchmark suites: the embedded procedural ``shapes`` domain, prompt-list suites and folder-of-videos suites."""

from __future__ import annotations

from vbench_lite.suites.base import Suite, VideoItem

__all__ = ["Suite", "VideoItem", "build_suite"]


def build_suite(spec: str) -> Suite:
    """The suite named by ``spec``: ``NAME`` or ``NAME:ARGUMENT`` (``prompts:FILE``), built from the
    registry (an unknown name is a did-you-mean error)."""
    from vbench_lite.registries import SUITES

    name, sep, argument = spec.partition(":")
    if sep and not argument:
        raise ValueError(f"suite {spec!r}: empty argument after ':' (e.g. prompts:FILE)")
    return SUITES.build(name, argument) if sep else SUITES.build(name)
