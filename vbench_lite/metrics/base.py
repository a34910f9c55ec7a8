"""The metric contract.

A metric is computed in two parts so that batch size, sharding and world size never change a
number:

1. ``per_video(videos, items, ctx)``: pure per-video work on any chunk of videos (shardable).
   It returns named arrays whose first axis is the chunk's videos: 1-D arrays are per-video
   *scores* (written to ``samples.jsonl``), 2-D arrays are per-video *features* (kept for the
   reduction only).
2. ``aggregate(per_video, items, ctx)``: one harness-level reduction over all videos in index
   order, returning one or more :class:`~vbench_lite.results.MetricResult` (each with its
   protocol record).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import torch

    from vbench_lite.results import MetricResult
    from vbench_lite.suites.base import Suite, VideoItem

class UnsupportedInput(ValueError):
    """The videos cannot support this metric (too few frames for its network, ...); the message is
    the reason and the fix. ``evaluate`` skips such a metric and records the reason in the results
    instead of a number; asked for by name, it is an error."""


# What a metric may need from the harness: the prompts, the suite's reference statistics, the run's
# reference method's videos for the same prompts and seeds (RunSpec.reference_method), attributes.
REFERENCE_METHOD_NEED = "reference_method"
NEEDS = ("prompts", "reference", REFERENCE_METHOD_NEED, "attributes")


@dataclass
class MetricContext:
    """What the harness gives a metric besides the videos."""

    suite: Suite | None = None
    device: str = "cpu"
    batch_size: int = 16
    # The reference method's videos for the given items (same prompts and seeds), for fidelity metrics.
    reference_method_videos: Callable[[list[VideoItem]], torch.Tensor] | None = None
    reference_method: str | None = None  # its name (NAME[:VARIANT]), recorded in the protocol
    # Free-form options (detector names, local weight paths), recorded in the protocol.
    options: dict[str, Any] = field(default_factory=dict)
    # The generated videos' resolution (px): FVD/KVD compare with the suite's real videos rendered
    # at this size. None: the suite's native resolution.
    resolution: int | None = None


class Metric(abc.ABC):
    """A quality metric; see the module docstring for the two-part contract."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool] = True
    needs: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def per_video(
        self, videos: torch.Tensor, items: list[VideoItem], ctx: MetricContext
    ) -> dict[str, np.ndarray]:
        """Per-video scores (1-D) and features (2-D) for a chunk, row i = ``items[i]``."""

    @abc.abstractmethod
    def aggregate(
        self, per_video: dict[str, np.ndarray], items: list[VideoItem], ctx: MetricContext
    ) -> list[MetricResult]:
        """Reduce all videos' arrays (in index order) to the reported numbers."""

    def prepare(self, ctx: MetricContext) -> None:
        """Optional: check and load what the metric compares against before any video is generated
        (FVD/KVD: the reference statistics), so bad input fails before the work, not after it.
        Raises :class:`UnsupportedInput` when the inputs cannot support the metric."""
        return None
