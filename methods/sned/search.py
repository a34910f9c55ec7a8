"""SNED's search after training: evaluate candidate subnets of the trained supernet (cost from the
FLOP counter, quality from KVD on the ``validation`` split, never ``eval``) and keep the Pareto
front per resolution.

``candidates()`` is the uniform and the extreme mixed widths at each resolution without skipped
blocks (every width combination on request), plus a few architectures with skipped blocks from the
training pool; ``evaluate()`` runs each through
:func:`vbench_lite.evaluate_method` (the harness's cached run pipeline) and counts its FLOPs per
video over one whole generation (every sampler step, both CFG passes, text and decoding);
``pareto_front()`` keeps the points no other point beats on both cost and quality.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vbench_lite.methods.sned.search_space import SearchSpace, SubnetArch

logger = logging.getLogger(__name__)


@dataclass
class Candidate:
    arch: SubnetArch
    gflops: float  # per generated video (FLOPs = 2 x MAC)
    params: int
    metrics: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch.to_dict(), "label": self.arch.label(), "gflops_per_video": self.gflops,
                "params": self.params, "metrics": self.metrics, "stds": self.stds}


def candidates(space: SearchSpace, skipped_per_width: int = 1, seed: int = 0,
               all_widths: bool = False) -> list[SubnetArch]:
    """At every resolution: the uniform widths (every multiplier) and the two mixed extremes (narrow
    shallow level with the full deep one, and the reverse), or every width combination with
    ``all_widths``; plus ``skipped_per_width`` training-pool members with skipped blocks at the full
    and the 0.75x width."""
    choices = space.width_choices
    out: list[SubnetArch] = []
    for r in space.resolutions:
        if all_widths:
            widths = [tuple(w) for w in itertools.product(*choices)]
        else:
            widths = [space.uniform(m, r).widths for m in space.multipliers]
            widths += [(choices[0][0], *(c[-1] for c in choices[1:])), (choices[0][-1], *(c[0] for c in choices[1:]))]
        out.extend(SubnetArch(w, (), r) for w in dict.fromkeys(widths))
    pool = space.training_pool(seed)
    for r in space.resolutions:
        for mult in (1.0, 0.75):
            widths = space.uniform(mult, r).widths
            with_skips = [a for a in pool if a.resolution == r and a.widths == widths and a.skip]
            out.extend(with_skips[:skipped_per_width])
    return out


def flops_per_video(method: Any, resolution: int) -> int:
    """FLOPs of one generated video (batch 1: every step, CFG passes, text and decoding)."""
    from vbench_lite.profile import count_flops
    from vbench_lite.spec import GenerationSpec

    spec = GenerationSpec(resolution=resolution)
    saved = method.generator.micro_batch
    method.generator.micro_batch = 1  # FLOPs per video do not depend on the micro-batch; this is 16x cheaper
    try:
        return int(count_flops(lambda: method.generate(["a red circle moving left slowly on a black background"],
                                                       [0], spec)).total)
    finally:
        method.generator.micro_batch = saved


def evaluate(archs: Sequence[SubnetArch], make_method: Callable[[SubnetArch], Any], *, num_videos: int,
             metrics: tuple[str, ...] = ("fvd", "kvd"), split: str = "validation") -> list[Candidate]:
    """Quality on ``split`` and cost of every architecture (``make_method(arch)``: an unloaded adapter)."""
    import vbench_lite

    out = []
    for arch in archs:
        method = make_method(arch)
        method.load("cpu")
        result = vbench_lite.evaluate_method(method, split=split, num_videos=num_videos, metrics=metrics)
        cand = Candidate(arch, flops_per_video(method, arch.resolution) / 1e9, int(method.describe()["params"]),
                         {k: float(m.value) for k, m in result.metrics.items()},
                         {k: float(m.std) for k, m in result.metrics.items() if m.std is not None})
        logger.info("%s: %.3f GFLOPs/video, %s", arch.label(), cand.gflops, cand.metrics)
        out.append(cand)
    return out


def pareto_front(points: Sequence[Candidate], metric: str = "kvd") -> list[Candidate]:
    """The candidates no other candidate matches or beats on both GFLOPs and ``metric`` (lower is
    better for both) while strictly beating on one; sorted by cost."""
    front = []
    for p in points:
        dominated = any(
            q is not p and q.gflops <= p.gflops and q.metrics[metric] <= p.metrics[metric]
            and (q.gflops < p.gflops or q.metrics[metric] < p.metrics[metric])
            for q in points
        )
        if not dominated:
            front.append(p)
    return sorted(front, key=lambda c: c.gflops)
