"""SNED's search after training: evaluate candidate subnets of the trained supernet (cost from the
FLOP counter, quality from KVD on the ``validation`` split, never ``eval``) and keep the Pareto
front per resolution.

``candidates()`` is the uniform and the extreme mixed widths at each resolution without skipped
blocks (every width combination on request), plus a few architectures with skipped blocks from the
training pool; ``evaluate()`` runs each through
:func:`vbench_lite.evaluate_method` (the harness's cached run pipeline) and counts its FLOPs per
video over one whole generation (every sampler step, both CFG passes, text and decoding);
``pareto_front()`` keeps the points no other point beats on both cost and quality;
``pick_presets()`` names sizes on one resolution's front (the rule the shipped presets were picked by).
"""

from __future__ import annotations

import itertools
import logging
import math
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
               all_widths: bool = False, include: Sequence[SubnetArch] = ()) -> list[SubnetArch]:
    """At every resolution: the uniform widths (every multiplier) and the two mixed extremes (narrow
    shallow level with the full deep one, and the reverse), or every width combination with
    ``all_widths``; plus ``skipped_per_width`` training-pool members with skipped blocks at every
    uniform width; plus ``include`` (e.g. the current presets) where not already there."""
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
        for mult in sorted(space.multipliers, reverse=True):
            widths = space.uniform(mult, r).widths
            with_skips = [a for a in pool if a.resolution == r and a.widths == widths and a.skip]
            out.extend(with_skips[:skipped_per_width])
    out.extend(a for a in include if a not in out)
    return list(dict.fromkeys(out))


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


def pick_presets(front: Sequence[Candidate], others: Sequence[Candidate] = ()) -> dict[str, Candidate]:
    """Sizes on one resolution's Pareto front (sorted by cost): ``l`` the dearest front point (the
    best quality), ``s`` the cheapest, ``m`` the front point between them nearest their geometric
    mean cost. With only two front points, ``m`` is the best-quality candidate of ``others`` (the
    same resolution, off the front) whose cost lies between them, if any; with one, only ``l``."""
    front = sorted(front, key=lambda c: c.gflops)
    if not front:
        return {}
    out = {"l": front[-1]}
    if len(front) == 1:
        return out
    out["s"] = front[0]
    mid = math.sqrt(front[0].gflops * front[-1].gflops)
    inner = front[1:-1]
    if not inner:
        metric = next(iter(front[0].metrics))
        inner = sorted((c for c in others if front[0].gflops < c.gflops < front[-1].gflops and c not in front),
                       key=lambda c: c.metrics.get("kvd", c.metrics[metric]))[:1]
    if inner:
        out["m"] = min(inner, key=lambda c: abs(math.log(c.gflops / mid)))
    return {k: out[k] for k in ("s", "m", "l") if k in out}
