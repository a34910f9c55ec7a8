"""The suite contract: captioned prompts in disjoint, versioned seed streams, and real videos."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class VideoItem:
    """One prompt of a suite split: its index in the split, caption, seed and ground truth."""

    index: int
    prompt: str
    seed: int
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class Suite(abc.ABC):
    """A benchmark domain.

    Splits (DESIGN.md): ``eval`` (the leaderboard set), ``validation`` (model selection and
    searches, never reported), ``reference`` (real videos for FVD statistics) and ``train``.
    Seed streams of different splits never overlap.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    split_sizes: ClassVar[dict[str, int | None]] = {}  # None: unbounded
    frames: ClassVar[int] = 16
    resolution: ClassVar[int] = 32
    fps: ClassVar[int] = 8
    # The FVD/KVD feature detector of this suite's numbers unless a run names another: StyleGAN-V's
    # I3D, the field's standard; a suite with a detector trained on its own domain declares that one.
    default_detector: ClassVar[str] = "i3d"

    @property
    def has_reference(self) -> bool:
        """Whether the suite has real videos (a ``reference`` split) for FVD/KVD statistics."""
        return "reference" in self.split_sizes

    def split_size(self, split: str) -> int | None:
        if split not in self.split_sizes:
            raise ValueError(
                f"suite {self.name!r} has no split {split!r}; splits: {', '.join(self.split_sizes)}"
            )
        return self.split_sizes[split]

    @abc.abstractmethod
    def items(self, split: str, num: int | None = None, offset: int = 0) -> list[VideoItem]:
        """``num`` items of ``split`` starting at ``offset`` (default: the whole split)."""

    def render(
        self, items: list[VideoItem], *, resolution: int | None = None, frames: int | None = None
    ) -> torch.Tensor:
        """Real videos for ``items`` as uint8 ``[B, T, C, H, W]`` (suites with real data)."""
        raise TypeError(f"suite {self.name!r} has no renderer of real videos")

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "splits": dict(self.split_sizes),
            "frames": self.frames,
            "resolution": self.resolution,
            "fps": self.fps,
        }
