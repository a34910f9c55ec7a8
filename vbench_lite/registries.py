"""The registry instances of the harness and the built-in entries they start with.

Built-in methods come in through the ``vbench_lite.methods`` entry-point group (declared in
``pyproject.toml``), exactly like a third-party plugin. Built-in suites, metrics and detectors are
registered here as lazy ``"module:attr"`` targets, so listing them imports nothing heavy; plugins
of those kinds come through their own entry-point groups.
"""

from __future__ import annotations

from typing import Any

from vbench_lite.method import MethodAdapter
from vbench_lite.registry import Registry
from vbench_lite.suites.base import Suite

METHODS: Registry[MethodAdapter] = Registry("method", MethodAdapter, group="vbench_lite.methods")
SUITES: Registry[Suite] = Registry("suite", Suite, group="vbench_lite.suites")
METRICS: Registry[Any] = Registry("metric", None, group="vbench_lite.metrics")
DETECTORS: Registry[Any] = Registry("detector", None, group="vbench_lite.detectors")

SUITES.register(
    "shapes",
    "vbench_lite.suites.shapes:ShapesSuite",
    description="Procedural coloured shapes moving on plain backgrounds, with ground-truth attributes.",
)

ALL: dict[str, Registry[Any]] = {
    "methods": METHODS,
    "metrics": METRICS,
    "detectors": DETECTORS,
    "suites": SUITES,
}
