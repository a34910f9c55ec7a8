"""SNED's search space on the shared backbone (Li et al., CVPR 2024, "Superposition Network
Architecture Search for Efficient Video Diffusion Model"): dynamic channels, fine-grained dynamic
blocks and the input resolution, with every architecture's cost measured by the project's FLOP counter.

Only the paper's abstract is public; the concrete space follows once-for-all / BigNAS practice
(Cai et al. 2020; Yu et al. 2020) on this backbone:

- *dynamic channels*: one width multiplier per UNet level from ``WIDTH_MULTIPLIERS`` (0.5, 0.75,
  1.0), the leading channels of the shared weights (:mod:`vbench_lite.methods.backbone.slicing`);
- *fine-grained dynamic blocks*: each ResBlock, temporal layer and cross-attention of the UNet can
  be skipped on its own (every one is residual, so a skipped block is the identity);
- *resolution*: 24, 32 or 48 px (latents 6, 8 and 12; the frame autoencoder is fully convolutional).

An architecture is a :class:`SubnetArch`; its cost is the FLOPs of one denoiser call on one video
(:func:`denoiser_flops`, ``vbench_lite.profile.flops.count_flops``: 2 FLOPs per multiply-accumulate).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from vbench_lite.methods.backbone.autoencoder import DOWNSCALE
from vbench_lite.methods.backbone.slicing import check_widths, scaled_widths
from vbench_lite.methods.backbone.unet import SpaceTimeUNet, UNetConfig

WIDTH_MULTIPLIERS = (0.5, 0.75, 1.0)
RESOLUTIONS = (24, 32, 48)
FRAMES = 16
# Training pool: skipping more than a handful of the 21 blocks at once leaves a subnet that the
# shared weights cannot serve well (VDMini measured the baseline with its 8 shallow blocks skipped at
# loss 1.95 of 2.0); OFA's elastic depth likewise removes at most a few layers per stage.
MAX_SKIPPED = 4
SKIP_SETS_PER_SHAPE = 7  # random skip sets per (resolution, widths) in the training pool, besides none


@dataclass(frozen=True, order=True)
class SubnetArch:
    """One subnetwork of the supernet: per-level widths (channels), skipped blocks, resolution (px)."""

    widths: tuple[int, ...]
    skip: tuple[str, ...] = ()
    resolution: int = 32

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        object.__setattr__(self, "skip", tuple(sorted(set(self.skip))))
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution {self.resolution} is not in SNED's search space; use one of {RESOLUTIONS}")

    @property
    def latent(self) -> int:
        return self.resolution // DOWNSCALE

    def to_dict(self) -> dict[str, Any]:
        return {"widths": list(self.widths), "skip": list(self.skip), "resolution": self.resolution}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubnetArch:
        return cls(tuple(d["widths"]), tuple(d.get("skip", ())), int(d.get("resolution", 32)))

    def label(self) -> str:
        skip = f" -{len(self.skip)} blocks" if self.skip else ""
        return f"{self.resolution}px w={'/'.join(map(str, self.widths))}{skip}"


@dataclass(frozen=True)
class SearchSpace:
    """The architectures of a supernet UNet ``config``: width choices per level, skippable blocks,
    resolutions. ``check(arch)`` validates one (a custom subnet from the Python API included)."""

    config: UNetConfig = field(default_factory=UNetConfig)
    multipliers: tuple[float, ...] = WIDTH_MULTIPLIERS
    resolutions: tuple[int, ...] = RESOLUTIONS

    @property
    def width_choices(self) -> tuple[tuple[int, ...], ...]:
        """The channel counts each level may take (one tuple per level, ascending)."""
        per_mult = [scaled_widths(self.config, m) for m in self.multipliers]
        return tuple(tuple(sorted({w[i] for w in per_mult})) for i in range(len(self.config.widths)))

    def skippable(self) -> list[str]:
        with torch.device("meta"):
            return SpaceTimeUNet(self.config).skippable_blocks()

    def largest(self, resolution: int = 32) -> SubnetArch:
        return SubnetArch(tuple(self.config.widths), (), resolution)

    def smallest_widths(self) -> tuple[int, ...]:
        return tuple(c[0] for c in self.width_choices)

    def uniform(self, multiplier: float, resolution: int = 32, skip: Sequence[str] = ()) -> SubnetArch:
        return self.check(SubnetArch(scaled_widths(self.config, multiplier), tuple(skip), resolution))

    def check(self, arch: SubnetArch) -> SubnetArch:
        """``arch`` if it lies in this space, else a ``ValueError`` naming what is wrong."""
        check_widths(self.config, arch.widths)
        for i, (w, choices) in enumerate(zip(arch.widths, self.width_choices)):
            if w not in choices:
                raise ValueError(f"width {w} of level {i} is not a SNED width choice; use one of {choices}")
        bad = sorted(set(arch.skip) - set(self.skippable()))
        if bad:
            raise ValueError(f"cannot skip {bad}: skippable blocks are {self.skippable()}")
        if arch.resolution not in self.resolutions:
            raise ValueError(f"resolution {arch.resolution} is not supported; use one of {self.resolutions}")
        return arch

    def shapes(self) -> list[tuple[int, tuple[int, ...]]]:
        """Every (resolution, widths) pair of the space."""
        return [(r, tuple(w)) for r in self.resolutions for w in itertools.product(*self.width_choices)]

    def training_pool(self, seed: int = 0, skip_sets: int = SKIP_SETS_PER_SHAPE,
                      max_skipped: int = MAX_SKIPPED) -> list[SubnetArch]:
        """The architectures training samples from: for every (resolution, widths), the subnet with
        no skipped block and ``skip_sets`` with 1..``max_skipped`` blocks skipped, drawn with ``seed``.
        A fixed, finite pool keeps each step's cost measurable once (the trainer counts FLOPs per
        distinct batch) while still exercising every block as skipped in many contexts."""
        rng = random.Random(seed)
        blocks = self.skippable()
        pool: list[SubnetArch] = []
        for res, widths in self.shapes():
            pool.append(SubnetArch(widths, (), res))
            seen: set[tuple[str, ...]] = set()
            while len(seen) < skip_sets:
                k = rng.randint(1, max_skipped)
                seen.add(tuple(sorted(rng.sample(blocks, k))))
            pool.extend(SubnetArch(widths, s, res) for s in sorted(seen))
        return pool


def denoiser_flops(unet: SpaceTimeUNet, arch: SubnetArch, frames: int = FRAMES) -> int:
    """FLOPs (2 x MAC) of one denoiser call of ``arch`` on one video, measured by the FLOP counter
    on a real forward pass (batch 1, random inputs: FLOPs depend only on shapes)."""
    from vbench_lite.profile.flops import count_flops

    p = next(unet.parameters())
    x = torch.zeros(1, unet.config.latent_channels, frames, arch.latent, arch.latent, device=p.device)
    t = torch.full((1,), 0.5, device=p.device)
    text = torch.zeros(1, 8, unet.config.text_dim, device=p.device)
    keep = torch.ones(1, 8, dtype=torch.bool, device=p.device)
    pooled = torch.zeros(1, unet.config.text_dim, device=p.device)
    with torch.no_grad():
        report = count_flops(lambda: unet(x, t, text, keep, pooled, skip=arch.skip, widths=arch.widths))
    return int(report.total)
