"""Peak memory of one generation.

- GPU: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, in this process.
- CPU: a fresh subprocess (``python -m vbench_lite.profile.memory_worker``) loads the method by its
  registry name, then runs one generation; the result is the rise of its resident set size from
  just before ``generate()`` to the peak during it. The peak is Linux's ``VmHWM`` after resetting
  it through ``/proc/self/clear_refs`` (``echo 5``, proc(5)), so the transient peak of loading the
  weights is not mistaken for the generation's; where that reset is unavailable the process-wide
  ``ru_maxrss`` is used and the result says so. A fresh process keeps allocator caches of earlier
  work in this process out of the number.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import torch

from vbench_lite.spec import GenerationSpec

logger = logging.getLogger(__name__)


class StagePeaks:
    """A stage listener that splits a high-water mark by stage.

    ``read_peak()`` gives the mark since the last ``reset_peak()``. At every stage boundary the mark
    is read, credited to every open stage and to the overall peak, then reset, so the overall peak
    survives the resets and a stage nested in another counts for both.
    """

    def __init__(self, read_peak: Callable[[], int], reset_peak: Callable[[], object]) -> None:
        self.read_peak, self.reset_peak = read_peak, reset_peak
        self.open: dict[str, int] = {}
        self.by_stage: dict[str, int] = {}
        self.overall = 0

    def _boundary(self) -> None:
        peak = self.read_peak()
        self.overall = max(self.overall, peak)
        for name in self.open:
            self.by_stage[name] = max(self.by_stage.get(name, 0), peak)
        self.reset_peak()

    def enter(self, name: str) -> None:
        self._boundary()
        self.open[name] = self.open.get(name, 0) + 1

    def exit(self, name: str) -> None:
        self._boundary()
        self.open[name] -= 1
        if not self.open[name]:
            del self.open[name]

    def finish(self) -> int:
        """The overall peak, after the last stage closed."""
        self._boundary()
        return self.overall


def stage_increases(peaks: StagePeaks, before: int) -> dict[str, int]:
    return {name: max(0, p - before) for name, p in peaks.by_stage.items()}


def gpu_peak_memory(fn: Callable[[], object], device: str = "cuda") -> dict[str, Any]:
    """Peak CUDA memory allocated while ``fn()`` runs, its rise over what was held before, by stage."""
    from vbench_lite.profile.stages import listening

    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    peaks = StagePeaks(lambda: torch.cuda.max_memory_allocated(device),
                       lambda: torch.cuda.reset_peak_memory_stats(device))
    with listening(peaks):
        fn()
        torch.cuda.synchronize(device)
    peak = peaks.finish()
    return {
        "unit": "byte",
        "device": device,
        "source": "torch.cuda.max_memory_allocated",
        "batch": 1,
        "before_bytes": int(before),
        "peak_bytes": int(peak),
        "increase_bytes": int(peak - before),
        "stage_increase_bytes": stage_increases(peaks, before),
    }


def cpu_peak_rss(
    method: str,
    generation: GenerationSpec,
    prompts: Sequence[str],
    seeds: Sequence[int],
    *,
    threads: int | None = None,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Run one generation of ``method`` (``NAME[:VARIANT]``) in a fresh process; its peak RSS rise."""
    request = {
        "method": method,
        "generation": generation.to_dict(),
        "prompts": list(prompts),
        "seeds": [int(s) for s in seeds],
        "threads": threads or torch.get_num_threads(),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "vbench_lite.profile.memory_worker"],
        input=json.dumps(request), capture_output=True, text=True, timeout=timeout_s,
        env=_child_env(), check=False,
    )
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:] or ["(no output)"]
        raise RuntimeError(f"method {method!r}: the peak-memory subprocess failed: {tail[0]}")
    lines = [line for line in proc.stdout.strip().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"method {method!r}: the peak-memory subprocess printed no result")
    return json.loads(lines[-1])


def _child_env() -> dict[str, str]:
    """This process's environment with its import path: the child finds every method this process
    can (plugins put on ``sys.path`` at run time included)."""
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    inherited = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths + ([inherited] if inherited else []))}


def call_peak_memory(fn: Callable[[], object], device: str = "cpu") -> dict[str, Any]:
    """Peak memory of one call of ``fn()`` in this process, over what was held before it (one part
    of a network, e.g. a lookup table's entry): :func:`gpu_peak_memory` on CUDA; on the CPU the
    resident set's high-water mark (``VmHWM`` after a ``clear_refs`` reset, Linux), which counts
    pages newly touched and so reads 0 when the allocator reuses memory it already holds."""
    if device.startswith("cuda"):
        return gpu_peak_memory(fn, device)
    from vbench_lite.profile.memory_worker import _reset_peak, _status_bytes

    before = _status_bytes("VmRSS")
    if before is None or not _reset_peak():
        raise RuntimeError("CPU peak memory of a call needs Linux's /proc/self/clear_refs (proc(5))")
    fn()
    peak = _status_bytes("VmHWM") or before
    return {"unit": "byte", "device": "cpu", "source": "VmHWM after clear_refs reset (in process)",
            "before_bytes": int(before), "peak_bytes": int(peak), "increase_bytes": int(max(0, peak - before))}
