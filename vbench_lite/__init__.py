"""vbench_lite: a benchmark and evaluation harness for efficient video diffusion methods."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from vbench_lite.method import MethodAdapter
    from vbench_lite.suites.base import Suite

__all__ = ["__version__", "evaluate_method", "load_method", "load_suite", "list_methods", "list_metrics", "list_detectors", "list_suites"]


def load_method(spec: str) -> MethodAdapter:
    """Instantiate a method adapter from ``"NAME[:VARIANT]"`` (not yet loaded onto a device)."""
    from vbench_lite.registries import METHODS
    from vbench_lite.registry import split_name

    name, variant = split_name(spec)
    return METHODS.build(name, variant=variant)


def load_suite(name: str) -> Suite:
    """A suite by name: ``NAME`` or ``NAME:ARGUMENT`` (``prompts:FILE``)."""
    from vbench_lite.suites import build_suite

    return build_suite(name)


def list_methods() -> list[str]:
    from vbench_lite.registries import METHODS

    return METHODS.names()


def list_metrics() -> list[str]:
    from vbench_lite.registries import METRICS

    return METRICS.names()


def list_detectors() -> list[str]:
    from vbench_lite.registries import DETECTORS

    return DETECTORS.names()


def list_suites() -> list[str]:
    from vbench_lite.registries import SUITES

    return SUITES.names()


def evaluate_method(method_or_name, **kwargs):  # type: ignore[no-untyped-def]
    """Evaluate a method on a suite split (default ``validation``); see
    :func:`vbench_lite.pipeline.runner.evaluate_method` for the arguments."""
    from vbench_lite.pipeline.runner import evaluate_method as _evaluate

    return _evaluate(method_or_name, **kwargs)
