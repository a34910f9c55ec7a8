"""Wall-clock latency: warm-up runs, then N measured runs; median, IQR and every run kept.

The torch thread count is fixed for the measurement and recorded. On CUDA the runs are timed with
CUDA events between synchronisations, so queued kernels are not missed. Time spent inside each
:func:`~vbench_lite.profile.stage` and the process CPU time are recorded per run as well. A measurement whose IQR exceeds
10% of its median is flagged ``unstable`` (a busy machine, thermal throttling, too few repeats).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vbench_lite.cost import LatencyStat
from vbench_lite.profile.stages import listening

logger = logging.getLogger(__name__)

UNSTABLE_RELATIVE_IQR = 0.10


@dataclass(frozen=True)
class LatencyReport:
    """Seconds per call of the measured runs (warm-up runs are not kept)."""

    runs_s: tuple[float, ...]
    stage_runs_s: dict[str, tuple[float, ...]]  # stage -> seconds inside it, per measured run
    warmup: int
    threads: int
    device: str
    timer: str  # "perf_counter" or "cuda_events"
    cpu_runs_s: tuple[float, ...] = ()  # process CPU seconds (all threads) of each measured run

    @property
    def median_s(self) -> float:
        return float(np.median(self.runs_s))

    @property
    def iqr_s(self) -> float:
        q1, q3 = np.percentile(self.runs_s, [25, 75])
        return float(q3 - q1)

    @property
    def relative_iqr(self) -> float:
        return self.iqr_s / self.median_s if self.median_s > 0 else float("inf")

    @property
    def unstable(self) -> bool:
        return self.relative_iqr > UNSTABLE_RELATIVE_IQR

    @property
    def stage_median_s(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.stage_runs_s.items()}

    def stat(self, per: int = 1) -> LatencyStat:
        """The results-schema record; ``per`` is the number of videos each timed call made."""
        return LatencyStat(
            per=per,
            median_s=self.median_s,
            iqr_s=self.iqr_s,
            relative_iqr=self.relative_iqr,
            unstable=self.unstable,
            runs_s=tuple(self.runs_s),
            stage_median_s=self.stage_median_s,
            stage_runs_s={k: tuple(v) for k, v in self.stage_runs_s.items()},
            cpu_runs_s=tuple(self.cpu_runs_s),
            warmup=self.warmup,
            repeats=len(self.runs_s),
            threads=self.threads,
            device=self.device,
            timer=self.timer,
        )

    def to_dict(self, per: int = 1) -> dict[str, Any]:
        """JSON form of :meth:`stat` (per-video values are derived from it, never stored)."""
        return self.stat(per).to_dict()


class Clock:
    """``perf_counter`` on CPU; CUDA events (read after one synchronisation) on GPU."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")

    @property
    def timer(self) -> str:
        return "cuda_events" if self.cuda else "perf_counter"

    def mark(self) -> Any:
        if self.cuda:
            ev = torch.cuda.Event(enable_timing=True)
            ev.record()
            return ev
        return time.perf_counter()

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def seconds(self, start: Any, end: Any) -> float:
        return start.elapsed_time(end) / 1000.0 if self.cuda else end - start


class StageTimer:
    """A stage listener that marks the clock when a stage is entered and left (outermost only)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.depth: dict[str, int] = defaultdict(int)
        self.open: dict[str, Any] = {}
        self.spans: list[tuple[str, Any, Any]] = []

    def enter(self, name: str) -> None:
        self.depth[name] += 1
        if self.depth[name] == 1:
            self.open[name] = self.clock.mark()

    def exit(self, name: str) -> None:
        self.depth[name] -= 1
        if self.depth[name] == 0:
            self.spans.append((name, self.open.pop(name), self.clock.mark()))

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for name, start, end in self.spans:
            out[name] += self.clock.seconds(start, end)
        return out


@contextlib.contextmanager
def fixed_threads(threads: int | None) -> Iterator[int]:
    """Set torch's intra-op thread count for the block (None keeps it) and restore it after."""
    before = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def check_device(device: str) -> str:
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but CUDA is not available; use --device cpu")
        return device
    raise ValueError(f"unknown device {device!r}; use cpu or cuda")


def runqueue_wait_s() -> float | None:
    """Seconds this process's threads have spent runnable but waiting for a core, summed over its
    threads (Linux ``/proc/self/task/*/schedstat``, field 2); ``None`` where the kernel does not say.

    The direct measure of CPU contention: on an idle machine it stays near zero whatever the
    method's parallel efficiency, while wall time alone cannot tell waiting from working.
    """
    total = 0
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that exited between the listing and the read
    return total / 1e9 if tasks else None


@dataclass(frozen=True)
class TimedRun:
    """One timed call: wall seconds (CUDA events on GPU), process CPU seconds (all threads),
    run-queue wait seconds (``None`` where unknown) and seconds inside each stage."""

    wall_s: float
    cpu_s: float
    wait_s: float | None
    stages_s: dict[str, float]


def timed_call(fn: Callable[[], object], clock: Clock) -> TimedRun:
    """Call ``fn()`` once between synchronisations and time it."""
    timer = StageTimer(clock)
    with listening(timer):
        clock.sync()
        wait0, cpu0 = runqueue_wait_s(), time.process_time()
        start = clock.mark()
        fn()
        end = clock.mark()
        clock.sync()
        cpu1, wait1 = time.process_time(), runqueue_wait_s()
    wait = wait1 - wait0 if wait0 is not None and wait1 is not None else None
    return TimedRun(clock.seconds(start, end), cpu1 - cpu0, wait, dict(timer.totals()))


def stage_columns(runs: list[TimedRun]) -> dict[str, tuple[float, ...]]:
    """Stage -> seconds per run; a stage that ran in some runs only is padded with zeros there
    (a missing entry would misalign the runs and give misleading medians)."""
    names = dict.fromkeys(name for r in runs for name in r.stages_s)
    return {name: tuple(r.stages_s.get(name, 0.0) for r in runs) for name in names}


def measure_latency(
    fn: Callable[[], object],
    *,
    warmup: int = 1,
    repeats: int = 5,
    device: str = "cpu",
    threads: int | None = None,
    on_run: Callable[[], None] | None = None,
) -> LatencyReport:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed ones (at least 2).

    ``on_run`` is called after every call, warm-up included (a progress bar's update).
    """
    if repeats < 2:
        raise ValueError(f"latency needs at least 2 measured repeats to give a spread, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    device = check_device(device)
    clock = Clock(device)
    runs: list[TimedRun] = []
    with fixed_threads(threads) as n_threads:
        for _ in range(warmup):
            fn()
            if on_run is not None:
                on_run()
        clock.sync()
        gc.collect()
        for i in range(repeats):
            runs.append(timed_call(fn, clock))
            logger.info("latency run %d/%d: %.4f s", i + 1, repeats, runs[-1].wall_s)
            if on_run is not None:
                on_run()
    report = LatencyReport(
        runs_s=tuple(r.wall_s for r in runs),
        stage_runs_s=stage_columns(runs),
        warmup=warmup,
        threads=n_threads,
        device=device,
        timer=clock.timer,
        cpu_runs_s=tuple(r.cpu_s for r in runs),
    )
    if report.unstable:
        logger.warning(
            "latency is unstable: IQR %.4f s is %.0f%% of the median %.4f s (limit %.0f%%)",
            report.iqr_s, 100 * report.relative_iqr, report.median_s, 100 * UNSTABLE_RELATIVE_IQR,
        )
    return report
