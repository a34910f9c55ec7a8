"""SNED's *dynamic cost sampling* and *supernet training sampling warm-up*.

The abstract names both without details; what follows is the once-for-all / BigNAS reading, stated
as such:

- :class:`CostBuckets`: the training pool's architectures sorted into ``K`` cost buckets by their
  measured FLOPs (edges equally spaced in log-FLOPs between the cheapest and the dearest, so a
  bucket is a cost *class* such as "about 0.2 GFLOPs per call"); a draw first picks a bucket with
  its configured rate, then an architecture uniformly inside it. Sampling uniformly over
  architectures instead would over-train the cost range that holds most architectures (BigNAS
  sec. 3.1 observes the same for uniform sampling of widths).
- :class:`SamplingWarmup`: for the first ``warmup_steps`` only the largest network trains; the
  share of steps that train a sampled subnet then ramps linearly to ``final_share`` over
  ``ramp_steps`` (OFA trains the full network first, then progressively shrinks).
- :class:`SupernetSampler`: the architecture(s) of each step: the warm-up decides "largest or
  sampled", the buckets pick the sampled one; ``sandwich=True`` instead trains the largest, the
  smallest and one sampled subnet every step (BigNAS's sandwich rule). Every draw uses the step's
  generator only, so a resumed run draws exactly what an uninterrupted one would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from vbench_lite.methods.sned.search_space import SearchSpace, SubnetArch


class CostBuckets:
    """Architectures grouped into cost buckets; ``draw(generator)`` -> (bucket, architecture)."""

    def __init__(self, archs: Sequence[SubnetArch], flops: Sequence[int], num_buckets: int = 4,
                 rates: Sequence[float] | None = None) -> None:
        if len(archs) != len(flops) or not archs:
            raise ValueError("CostBuckets needs one FLOP count per architecture, and at least one")
        if num_buckets < 1:
            raise ValueError(f"num_buckets must be at least 1, got {num_buckets}")
        rates = [1.0 / num_buckets] * num_buckets if rates is None else [float(r) for r in rates]
        if len(rates) != num_buckets or any(r < 0 for r in rates) or not math.isclose(sum(rates), 1.0, abs_tol=1e-6):
            raise ValueError(f"rates must be {num_buckets} non-negative numbers summing to 1, got {rates}")
        lo, hi = math.log(min(flops)), math.log(max(flops))
        self.edges = tuple(math.exp(lo + (hi - lo) * i / num_buckets) for i in range(num_buckets + 1))
        self.archs = list(archs)
        self.flops = [int(f) for f in flops]
        self.members: list[list[int]] = [[] for _ in range(num_buckets)]
        for i, f in enumerate(self.flops):
            self.members[self.bucket_of(f)].append(i)
        empty = [b for b, m in enumerate(self.members) if not m and rates[b] > 0]
        if empty:
            raise ValueError(f"cost buckets {empty} hold no architecture; use fewer buckets or a larger pool")
        self.rates = tuple(rates)
        self._rates = torch.tensor(rates, dtype=torch.float64)

    @property
    def num_buckets(self) -> int:
        return len(self.members)

    def bucket_of(self, flops: float) -> int:
        """The bucket a cost falls in (the last edge belongs to the last bucket)."""
        for b in range(self.num_buckets):
            if flops < self.edges[b + 1]:
                return b
        return self.num_buckets - 1

    def draw(self, generator: torch.Generator) -> tuple[int, SubnetArch]:
        bucket = int(torch.multinomial(self._rates, 1, generator=generator))
        members = self.members[bucket]
        idx = members[int(torch.randint(len(members), (1,), generator=generator))]
        return bucket, self.archs[idx]

    def flops_of(self, arch: SubnetArch) -> int:
        return self.flops[self.archs.index(arch)]

    def describe(self) -> list[dict[str, float | int]]:
        return [{"bucket": b, "gflops_min": self.edges[b] / 1e9, "gflops_max": self.edges[b + 1] / 1e9,
                 "rate": self.rates[b], "architectures": len(m)} for b, m in enumerate(self.members)]


@dataclass(frozen=True)
class SamplingWarmup:
    """Share of steps that train a sampled subnet (the rest train the largest network)."""

    warmup_steps: int = 0
    ramp_steps: int = 0
    final_share: float = 1.0

    def __post_init__(self) -> None:
        if self.warmup_steps < 0 or self.ramp_steps < 0 or not 0.0 <= self.final_share <= 1.0:
            raise ValueError(f"bad sampling warm-up {self}: steps must be >= 0 and final_share in [0, 1]")

    def share(self, step: int) -> float:
        if step < self.warmup_steps:
            return 0.0
        if self.ramp_steps == 0:
            return self.final_share
        return self.final_share * min(1.0, (step - self.warmup_steps + 1) / self.ramp_steps)


@dataclass(frozen=True)
class StepDraw:
    """What one training step trains: each architecture with the bucket it came from (-1: the
    largest network, not drawn from a bucket)."""

    archs: tuple[SubnetArch, ...]
    buckets: tuple[int, ...]


class SupernetSampler:
    """The architectures of every training step (see the module docstring)."""

    def __init__(self, space: SearchSpace, buckets: CostBuckets, warmup: SamplingWarmup,
                 sandwich: bool = False, largest_resolution_rates: Sequence[float] | None = None) -> None:
        self.space = space
        self.buckets = buckets
        self.warmup = warmup
        self.sandwich = sandwich
        n = len(space.resolutions)
        rates = [1.0 / n] * n if largest_resolution_rates is None else list(largest_resolution_rates)
        self._res_rates = torch.tensor(rates, dtype=torch.float64)

    def _resolution(self, generator: torch.Generator) -> int:
        return self.space.resolutions[int(torch.multinomial(self._res_rates, 1, generator=generator))]

    def draw(self, step: int, generator: torch.Generator) -> StepDraw:
        if self.sandwich:  # BigNAS: largest, smallest and one sampled subnet, each at a drawn resolution
            res = self._resolution(generator)
            bucket, arch = self.buckets.draw(generator)
            smallest = SubnetArch(self.space.smallest_widths(), (), res)
            return StepDraw((self.space.largest(res), smallest, arch), (-1, -1, bucket))
        u = float(torch.rand((), generator=generator))
        if u < self.warmup.share(step):
            bucket, arch = self.buckets.draw(generator)
            return StepDraw((arch,), (bucket,))
        return StepDraw((self.space.largest(self._resolution(generator)),), (-1,))

    def config(self) -> dict[str, object]:
        return {"warmup": asdict(self.warmup), "sandwich": self.sandwich, "buckets": self.buckets.describe(),
                "largest_resolution_rates": self._res_rates.tolist()}
