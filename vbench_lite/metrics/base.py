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

A metric's settings (its detector, local weight files, bootstrap counts, protocol choice) are one
frozen :class:`MetricConfig` dataclass per metric (``Metric.config_class``), held by the run spec
(``RunSpec.metric_configs``) so the spec hash covers them, and given to the metric when it is built
(``metric.config``).
"""

from __future__ import annotations

import abc
import dataclasses
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class MetricConfig:
    """A metric's settings (none here; each metric subclasses it with its own fields and defaults).

    Fields named ``*_weights`` are local weight files: their content hash is part of the cache key
    of the metric's per-video scores (``pipeline/scoring.py``).
    """

    def to_dict(self) -> dict[str, Any]:
        """JSON-native form (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, metric: str = "") -> MetricConfig:
        """Build from a run file or a recorded spec; an unknown key is an error naming the known ones."""
        data = dict(data or {})
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown:
            known = ", ".join(sorted(names)) or "none"
            raise ValueError(f"metric {metric or cls.__name__!r} has no setting {', '.join(unknown)}; its settings: {known}")
        hints = typing.get_type_hints(cls)
        for key, value in data.items():
            if isinstance(value, list) and _is_tuple(hints.get(key)):
                data[key] = tuple(value)
        return cls(**data)

    def weight_files(self) -> dict[str, str]:
        """``{field: path}`` of the local weight files this config names."""
        return {f.name: str(v) for f in dataclasses.fields(self)
                if f.name.endswith("_weights") and (v := getattr(self, f.name))}


def _is_tuple(hint: Any) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_is_tuple(a) for a in typing.get_args(hint))
    return hint is tuple or typing.get_origin(hint) is tuple


@dataclass(frozen=True)
class ColumnSpec:
    """A leaderboard column a metric declares for one of the results it reports: every table format
    (Markdown, CSV, LaTeX, HTML, JSON) and the regression check's reader take it from here."""

    result: str  # the MetricResult name it shows (e.g. "fidelity_psnr")
    label: str  # header text without the direction arrow
    key: str = ""  # machine name (CSV header, JSON key); default: ``result``
    digits: int | None = None  # decimals shown; None: 3 significant digits of the column's smallest value
    unit: str = ""  # written after the number in text formats
    show_std: bool = False  # print the result's std as "± std"
    rescale: bool = False  # shown × 10^(3k) so the values read well, the factor in the header
    vs_reference: bool = False  # measured against the reference method: its own row reads "ref"
    group: str = ""  # the spanning header in the LaTeX table
    short: str = ""  # a shorter label under its group header
    order: float = 100.0  # position among the metric columns (built-ins 10-60; plugins after them)
    higher_is_better: bool | None = None  # None: the metric's own direction


@dataclass
class MetricContext:
    """What the harness gives a metric besides the videos (its settings are ``metric.config``)."""

    suite: Suite | None = None
    device: str = "cpu"
    batch_size: int = 16
    # The reference method's videos for the given items (same prompts and seeds), for fidelity metrics.
    reference_method_videos: Callable[[list[VideoItem]], torch.Tensor] | None = None
    reference_method: str | None = None  # its name (NAME[:VARIANT]), recorded in the protocol
    # The generated videos' resolution (px): FVD/KVD compare with the suite's real videos rendered
    # at this size. None: the suite's native resolution.
    resolution: int | None = None


class Metric(abc.ABC):
    """A quality metric; see the module docstring for the two-part contract."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool] = True
    needs: ClassVar[frozenset[str]] = frozenset()
    config_class: ClassVar[type[MetricConfig]] = MetricConfig
    # The leaderboard columns of this metric's results (none: it reaches results files, not tables).
    columns: ClassVar[tuple[ColumnSpec, ...]] = ()

    def __init__(self, config: MetricConfig | None = None) -> None:
        if config is None:
            config = self.config_class()
        if not isinstance(config, self.config_class):
            raise TypeError(f"metric {self.name!r} takes a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config

    def identity(self, ctx: MetricContext) -> dict[str, Any]:
        """What the per-video arrays depend on beyond the metric's name, version, code and config:
        the protocols (name + weights SHA-256) of the networks it runs. Part of the cache key of
        those arrays; a metric running a network overrides it."""
        return {}

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
