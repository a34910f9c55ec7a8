"""The cost row the method-against-reference benchmarks share (``*_vs_baseline.py``).

One loaded adapter's parameters and NFE, its FLOPs per video at the batch, and its paired latency
against a loaded reference on the same prompts and seeds, interleaved in this process
(:func:`vbench_lite.profile.paired.measure_paired`, one warm-up each). Imported by the benchmark
scripts next to it (``python benchmarks/X.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import vbench_lite
from vbench_lite.method import MethodAdapter
from vbench_lite.profile import count_flops
from vbench_lite.profile.paired import PairedLatency, measure_paired
from vbench_lite.spec import GenerationSpec


def add_common_args(ap: argparse.ArgumentParser) -> None:
    """The options every ``*_vs_baseline.py`` benchmark takes."""
    ap.add_argument("--split", default="validation", choices=("validation", "eval"))
    ap.add_argument("--num-videos", type=int, default=256)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", choices=("cost", "quality"), default=None)


def validation_batch(n: int = 16) -> tuple[list[str], list[int]]:
    """The first ``n`` prompts and seeds of shapes/validation: the batch every cost row uses."""
    items = vbench_lite.load_suite("shapes").items("validation", n)
    return [it.prompt for it in items], [it.seed for it in items]


@dataclass
class Cost:
    """One method's cost row; ``paired`` is None for the reference itself."""

    name: str
    adapter: MethodAdapter
    info: dict[str, Any]
    flops_per_video: float
    paired: PairedLatency | None

    @property
    def speedup(self) -> str:
        if self.paired is None:
            return "1.00x"
        lo, hi = self.paired.interval
        return f"{self.paired.speedup:.2f}x [{lo:.2f}, {hi:.2f}]"

    @property
    def stability(self) -> str:
        return "" if self.paired is None else ("; ".join(self.paired.unstable_reasons) or "stable")


def method_cost(name: str, gen: GenerationSpec, prompts: list[str], seeds: list[int], *,
                reference: Cost | None = None, pairs: int = 5, threads: int = 1) -> Cost:
    """Load ``name`` on the CPU, count its FLOPs per video at ``len(prompts)`` and, given the
    ``reference``'s row, time it paired against that reference."""
    m = vbench_lite.load_method(name)
    m.load("cpu")
    batch = len(prompts)
    flops = count_flops(lambda: m.generate(prompts, seeds, gen)).scaled(batch).total
    paired = None
    if reference is not None:
        ref = reference.adapter
        paired = measure_paired(lambda: m.generate(prompts, seeds, gen), lambda: ref.generate(prompts, seeds, gen),
                                names=(name, reference.name), pairs=pairs, warmup=1, threads=threads, per=batch)
    return Cost(name, m, m.describe(), flops, paired)
