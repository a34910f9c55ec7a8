"""Wall-clock latency: warm-up runs, then N measured runs; median, IQR and every run kept.

The torch thread count is fixed for the measurement and recorded. On CUDA the runs are timed with
CUDA events between synchronisations, so queued kernels are not missed. Time spent inside each
:func:`~vbench_lite.profile.stage` is recorded per run as well. A measurement whose IQR exceeds
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
from typing import Any

import numpy as np
import torch

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

    def to_dict(self, per: int = 1) -> dict[str, Any]:
        """JSON form; ``per`` (e.g. the batch size) adds ``seconds_per_video = median / per``."""
        return {
            "unit": "s",
            "median_s": self.median_s,
            "iqr_s": self.iqr_s,
            "relative_iqr": self.relative_iqr,
            "unstable": self.unstable,
            "runs_s": list(self.runs_s),
            "stage_median_s": self.stage_median_s,
            "stage_runs_s": {k: list(v) for k, v in self.stage_runs_s.items()},
            "per": per,
            "seconds_per_video": self.median_s / per,
            "median_s_per_video": self.median_s / per,
            "iqr_s_per_video": self.iqr_s / per,
            "warmup": self.warmup,
            "repeats": len(self.runs_s),
            "threads": self.threads,
            "device": self.device,
            "timer": self.timer,
        }


class _Clock:
    """``perf_counter`` on CPU; CUDA events (read after one synchronisation) on GPU."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")

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


class _StageTimer:
    """A stage listener that marks the clock when a stage is entered and left (outermost only)."""

    def __init__(self, clock: _Clock) -> None:
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


def measure_latency(
    fn: Callable[[], object],
    *,
    warmup: int = 1,
    repeats: int = 5,
    device: str = "cpu",
    threads: int | None = None,
) -> LatencyReport:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed ones (at least 2)."""
    if repeats < 2:
        raise ValueError(f"latency needs at least 2 measured repeats to give a spread, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    device = check_device(device)
    clock = _Clock(device)
    runs: list[float] = []
    stage_runs: dict[str, list[float]] = defaultdict(list)
    with fixed_threads(threads) as n_threads:
        for _ in range(warmup):
            fn()
        clock.sync()
        gc.collect()
        for i in range(repeats):
            timer = _StageTimer(clock)
            with listening(timer):
                clock.sync()
                start = clock.mark()
                fn()
                end = clock.mark()
                clock.sync()
            runs.append(clock.seconds(start, end))
            for name, secs in timer.totals().items():
                stage_runs[name].append(secs)
            logger.info("latency run %d/%d: %.4f s", i + 1, repeats, runs[-1])
    # a stage that ran in some runs only would give misleading medians; pad with zeros
    stages = {k: tuple(v) + (0.0,) * (repeats - len(v)) for k, v in stage_runs.items()}
    report = LatencyReport(
        runs_s=tuple(runs),
        stage_runs_s=stages,
        warmup=warmup,
        threads=n_threads,
        device=device,
        timer="cuda_events" if clock.cuda else "perf_counter",
    )
    if report.unstable:
        logger.warning(
            "latency is unstable: IQR %.4f s is %.0f%% of the median %.4f s (limit %.0f%%)",
            report.iqr_s, 100 * report.relative_iqr, report.median_s, 100 * UNSTABLE_RELATIVE_IQR,
        )
    return report
