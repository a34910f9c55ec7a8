"""Paired latency: a method and its reference timed interleaved in one process; speedup as a ratio of
medians with a paired-bootstrap 95% interval.

Two latencies measured minutes apart on a shared machine see different loads, so their ratio moves
with the machine (the unpaired leaderboard speedup of one TPDiff build read 1.05x and 1.20x on two
re-runs). Here the two calls alternate after their warm-ups, each pair in the order AB then BA then
AB ... (so a steady drift in machine speed charges both arms alike), on the same prompts and seeds
and thread count, and the speedup is ``median(reference) / median(method)`` over the pairs. Its
interval resamples whole pairs (the percentile bootstrap, seeded, so the same runs give the same
interval). Wall time and process CPU time are both kept for every run.

A measurement is marked ``unstable`` with a reason when one of these holds:

- the 1-minute load average before, between or after the pairs exceeds the usable cores by more
  than :data:`LOAD_MARGIN` (other processes were runnable beside ours);
- the threads spent more than :data:`WAIT_LIMIT` of their time waiting for a core (the kernel's
  run-queue delay, Linux only): the direct sign of sharing the CPU;
- the process's CPU time over wall time fell below :data:`CPU_SHARE_LIMIT` in either arm: a
  compute-bound generation keeps at least its main thread running, so on a machine of its own the
  ratio is at least about 1 (up to the thread count); below it, the process was descheduled;
- the wall-time and CPU-time speedups disagree by more than :data:`CPU_WALL_LIMIT`: on a machine
  of our own both measure the same work, under load the wall clock also counts other processes;
- the interval is wider than :data:`HALF_WIDTH_LIMIT` of the estimate on either side.

CPU-time rules apply on the CPU only (on CUDA the host's CPU time is not the work).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vbench_lite.profile.latency import (
    Clock,
    LatencyReport,
    TimedRun,
    check_device,
    fixed_threads,
    stage_columns,
    timed_call,
)

logger = logging.getLogger(__name__)

SCHEMA = "vbench_lite.paired_latency/1"
CONFIDENCE = 0.95
BOOTSTRAP = 2000  # resamples of the pairs
BOOTSTRAP_SEED = 0
LOAD_MARGIN = 0.5  # load average above usable cores + this: other processes competed
WAIT_LIMIT = 0.05  # run-queue wait over (wall x threads)
CPU_WALL_LIMIT = 0.10  # |wall speedup / CPU speedup - 1|
CPU_SHARE_LIMIT = 0.8  # median process CPU seconds per wall second, either arm
HALF_WIDTH_LIMIT = 0.05  # interval half-width over the estimate


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def load_average() -> float | None:
    """The 1-minute load average, ``None`` where the OS has none."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def ratio_of_medians(reference: np.ndarray, method: np.ndarray) -> float:
    m = float(np.median(method))
    return float(np.median(reference)) / m if m > 0 else float("inf")


def bootstrap_interval(
    reference: np.ndarray, method: np.ndarray, *, confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of ``median(reference) / median(method)``, resampling pairs.

    The two arrays are paired (entry i of both was measured side by side), so one index draw
    resamples both; the seeded generator makes the interval a function of the runs alone.
    """
    reference, method = np.asarray(reference, float), np.asarray(method, float)
    if reference.shape != method.shape or reference.ndim != 1 or len(reference) < 2:
        raise ValueError(f"a paired interval needs two equal 1-D samples of at least 2, got {reference.shape} and {method.shape}")
    idx = np.random.default_rng(seed).integers(0, len(reference), size=(resamples, len(reference)))
    ratios = np.median(reference[idx], axis=1) / np.median(method[idx], axis=1)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(ratios, [alpha, 1 - alpha])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Arm:
    """The measured runs of one side of the pairs."""

    name: str
    runs: tuple[TimedRun, ...]

    def wall(self) -> np.ndarray:
        return np.array([r.wall_s for r in self.runs])

    def cpu(self) -> np.ndarray:
        return np.array([r.cpu_s for r in self.runs])

    def cpu_share(self) -> float:
        """Median over runs of process CPU seconds per wall second (cores the process really got)."""
        return float(np.median(self.cpu() / np.maximum(self.wall(), 1e-12)))

    def wait_fraction(self, threads: int) -> float | None:
        """Median over runs of run-queue wait / (wall x threads); ``None`` where unknown."""
        fr = [r.wait_s / (r.wall_s * threads) for r in self.runs if r.wait_s is not None and r.wall_s > 0]
        return float(np.median(fr)) if fr else None

    def report(self, *, warmup: int, threads: int, device: str, timer: str) -> LatencyReport:
        return LatencyReport(
            runs_s=tuple(r.wall_s for r in self.runs), stage_runs_s=stage_columns(list(self.runs)),
            warmup=warmup, threads=threads, device=device, timer=timer,
            cpu_runs_s=tuple(r.cpu_s for r in self.runs),
        )


@dataclass(frozen=True)
class PairedLatency:
    """A method and its reference, timed in interleaved pairs (see the module docstring)."""

    method: Arm
    reference: Arm
    order: tuple[str, ...]  # per pair: "AB" (method first) or "BA"
    warmup: int
    threads: int
    device: str
    timer: str
    cores: int
    load_before: float | None
    load_during: tuple[float | None, ...]  # after each pair
    load_after: float | None
    per: int = 1  # videos per call: seconds per video = seconds / per
    extra: dict[str, Any] = field(default_factory=dict)  # what the caller adds (reference weights hash, ...)

    @property
    def pairs(self) -> int:
        return len(self.order)

    @property
    def speedup(self) -> float:
        """Wall-time speedup: median reference seconds / median method seconds."""
        return ratio_of_medians(self.reference.wall(), self.method.wall())

    @property
    def interval(self) -> tuple[float, float]:
        return bootstrap_interval(self.reference.wall(), self.method.wall())

    @property
    def cpu_speedup(self) -> float:
        return ratio_of_medians(self.reference.cpu(), self.method.cpu())

    @property
    def cpu_interval(self) -> tuple[float, float]:
        return bootstrap_interval(self.reference.cpu(), self.method.cpu())

    @property
    def load_max(self) -> float | None:
        loads = [x for x in (self.load_before, *self.load_during, self.load_after) if x is not None]
        return max(loads) if loads else None

    @property
    def unstable_reasons(self) -> list[str]:
        """Why the measurement is not to be trusted as the machine's own speed (empty: stable)."""
        reasons = []
        load = self.load_max
        if load is not None and load > self.cores + LOAD_MARGIN:
            reasons.append(f"load average {load:.2f} on {self.cores} usable cores")
        lo, hi = self.interval
        s = self.speedup
        if s > 0 and max(s - lo, hi - s) > HALF_WIDTH_LIMIT * s:
            reasons.append(f"95% interval [{lo:.3f}, {hi:.3f}] wider than ±{100 * HALF_WIDTH_LIMIT:.0f}% of {s:.3f}")
        if self.device == "cpu":
            waits = [w for w in (self.method.wait_fraction(self.threads), self.reference.wait_fraction(self.threads))
                     if w is not None]
            if waits and max(waits) > WAIT_LIMIT:
                reasons.append(f"threads waited {100 * max(waits):.0f}% of the time for a core")
            share = min(self.method.cpu_share(), self.reference.cpu_share())
            if share < CPU_SHARE_LIMIT:
                reasons.append(f"the process ran on {share:.2f} cores on average ({self.threads} thread(s) asked for)")
            c = self.cpu_speedup
            if c > 0 and abs(s / c - 1) > CPU_WALL_LIMIT:
                reasons.append(f"wall speedup {s:.3f} and CPU-time speedup {c:.3f} differ by "
                               f"{100 * abs(s / c - 1):.0f}%")
        return reasons

    @property
    def unstable(self) -> bool:
        return bool(self.unstable_reasons)

    def to_dict(self) -> dict[str, Any]:
        def arm(a: Arm) -> dict[str, Any]:
            rep = a.report(warmup=self.warmup, threads=self.threads, device=self.device, timer=self.timer)
            return {
                "name": a.name,
                "median_s": rep.median_s,
                "median_s_per_video": rep.median_s / self.per,
                "cpu_median_s": float(np.median(a.cpu())),
                "wall_runs_s": [r.wall_s for r in a.runs],
                "cpu_runs_s": [r.cpu_s for r in a.runs],
                "wait_runs_s": [r.wait_s for r in a.runs],
                "wait_fraction": a.wait_fraction(self.threads),
                "cpu_share": a.cpu_share(),
                "stage_median_s": rep.stage_median_s,
            }

        lo, hi = self.interval
        clo, chi = self.cpu_interval
        return {
            "schema": SCHEMA,
            "protocol": "paired-interleaved",
            "method": self.method.name,
            "reference": self.reference.name,
            "speedup": self.speedup,
            "interval": [lo, hi],
            "cpu_speedup": self.cpu_speedup,
            "cpu_interval": [clo, chi],
            "confidence": CONFIDENCE,
            "bootstrap": {"resamples": BOOTSTRAP, "seed": BOOTSTRAP_SEED, "kind": "percentile, pairs resampled"},
            "pairs": self.pairs,
            "order": list(self.order),
            "warmup": self.warmup,
            "per": self.per,
            "threads": self.threads,
            "device": self.device,
            "timer": self.timer,
            "cores": self.cores,
            "load_before": self.load_before,
            "load_during": list(self.load_during),
            "load_after": self.load_after,
            "unstable": self.unstable,
            "unstable_reasons": self.unstable_reasons,
            "method_runs": arm(self.method),
            "reference_runs": arm(self.reference),
            **self.extra,
        }


def measure_paired(
    method: Callable[[], object],
    reference: Callable[[], object],
    *,
    names: tuple[str, str] = ("method", "reference"),
    pairs: int = 5,
    warmup: int = 1,
    device: str = "cpu",
    threads: int | None = None,
    per: int = 1,
    on_run: Callable[[], None] | None = None,
) -> PairedLatency:
    """Time ``method()`` against ``reference()``: ``warmup`` untimed calls of each (alternating),
    then ``pairs`` timed pairs in the alternating order AB, BA, AB, ...

    ``per`` is the number of videos one call makes (for seconds per video); ``on_run`` is called
    after every call, warm-ups included (a progress bar's update).
    """
    if pairs < 2:
        raise ValueError(f"a paired speedup needs at least 2 pairs to give an interval, got {pairs}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    device = check_device(device)
    clock = Clock(device)
    fns = {"A": method, "B": reference}
    runs: dict[str, list[TimedRun]] = {"A": [], "B": []}
    order: list[str] = []
    during: list[float | None] = []
    with fixed_threads(threads) as n_threads:
        for _ in range(warmup):
            for key in "AB":
                fns[key]()
                if on_run is not None:
                    on_run()
        clock.sync()
        gc.collect()
        before = load_average()
        for i in range(pairs):
            seq = "AB" if i % 2 == 0 else "BA"
            for key in seq:
                runs[key].append(timed_call(fns[key], clock))
                if on_run is not None:
                    on_run()
            order.append(seq)
            during.append(load_average())
            logger.info("pair %d/%d (%s): %s %.4f s, %s %.4f s", i + 1, pairs, seq,
                        names[0], runs["A"][-1].wall_s, names[1], runs["B"][-1].wall_s)
        after = load_average()
    result = PairedLatency(
        method=Arm(names[0], tuple(runs["A"])), reference=Arm(names[1], tuple(runs["B"])),
        order=tuple(order), warmup=warmup, threads=n_threads, device=device, timer=clock.timer,
        cores=usable_cores(), load_before=before, load_during=tuple(during), load_after=after, per=per,
    )
    if result.unstable:
        logger.warning("paired speedup %s vs %s is unstable: %s", names[0], names[1], "; ".join(result.unstable_reasons))
    return result
