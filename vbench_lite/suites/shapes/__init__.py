"""The procedural, captioned "shapes" video domain: the embedded default suite.

Coloured shapes moving on plain backgrounds, 16 frames at 8 fps, 32x32 by default (also 24, 48,
64 px with the same content). Every video is a pure function of (suite version, seed) and carries
its ground-truth attributes. Split seed streams are disjoint by construction: split ``s`` uses
seeds ``SEED_BASES[s] + i``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from vbench_lite.suites.base import Suite, VideoItem
from vbench_lite.suites.shapes import vocab
from vbench_lite.suites.shapes.render import render_attributes
from vbench_lite.suites.shapes.sample import NUM_FRAMES, VERSION, sample_attributes

__all__ = ["ShapesSuite", "SEED_BASES", "SPLIT_SIZES", "sample_attributes", "render_attributes", "vocab"]

# Disjoint seed streams: each split owns [base, base + size); train is unbounded above its base,
# which lies above every other stream.
SEED_BASES: dict[str, int] = {
    "eval": 1_000_000,
    "validation": 2_000_000,
    "reference": 3_000_000,
    "train": 100_000_000,
}
SPLIT_SIZES: dict[str, int | None] = {"eval": 256, "validation": 256, "reference": 2048, "train": None}


class ShapesSuite(Suite):
    """Procedural coloured shapes moving on plain backgrounds, with ground-truth attributes."""

    name: ClassVar[str] = "shapes"
    version: ClassVar[str] = str(VERSION)
    split_sizes: ClassVar[dict[str, int | None]] = SPLIT_SIZES
    frames: ClassVar[int] = NUM_FRAMES
    resolution: ClassVar[int] = 32
    fps: ClassVar[int] = 8
    default_detector: ClassVar[str] = "shapes-video"  # the embedded detector trained on this domain

    def seeds(self, split: str, num: int | None = None, offset: int = 0) -> list[int]:
        size = self.split_size(split)
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")
        if num is None:
            if size is None:
                raise ValueError(f"split {split!r} is unbounded: give the number of videos")
            num = size - offset
        if num < 0 or (size is not None and offset + num > size):
            raise ValueError(
                f"split {split!r} of suite 'shapes' has {size} videos; asked for {num} from {offset}"
            )
        base = SEED_BASES[split]
        return list(range(base + offset, base + offset + num))

    def items(self, split: str, num: int | None = None, offset: int = 0) -> list[VideoItem]:
        out = []
        for i, seed in enumerate(self.seeds(split, num, offset), start=offset):
            attrs = sample_attributes(seed)
            out.append(VideoItem(index=i, prompt=attrs["caption"], seed=seed, attributes=attrs))
        return out

    def render(
        self, items: list[VideoItem], *, resolution: int | None = None, frames: int | None = None
    ) -> torch.Tensor:
        return render_attributes(
            [dict(it.attributes) if it.attributes else sample_attributes(it.seed) for it in items],
            resolution=resolution or self.resolution,
            frames=frames or self.frames,
        )

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["seed_bases"] = dict(SEED_BASES)
        return d
