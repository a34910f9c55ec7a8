"""Feature detectors for distribution metrics: the contract, and ``load_detector``.

Built-in detectors (registered lazily in ``vbench_lite.registries.DETECTORS``):
``shapes-video`` (embedded, trained by this project) and ``i3d`` (StyleGAN-V's TorchScript I3D).
"""

from __future__ import annotations

import os
from typing import Any

from vbench_lite.metrics.detectors.base import FeatureDetector

__all__ = ["FeatureDetector", "load_detector"]


def load_detector(
    name: str, weights: str | os.PathLike[str] | None = None, device: str = "cpu"
) -> Any:
    """The registered detector ``name``, loaded with ``weights`` (default: its standard place)."""
    from vbench_lite.registries import DETECTORS

    cls = DETECTORS.get(name)
    return cls.load(weights, device=device)
