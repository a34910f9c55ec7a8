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
from dataclasses import asdict
from typing import Any

import torch

from vbench_lite.spec import GenerationSpec

logger = logging.getLogger(__name__)


def gpu_peak_memory(fn: Callable[[], object], device: str = "cuda") -> dict[str, Any]:
    """Peak CUDA memory allocated while ``fn()`` runs, and its rise over the memory held before."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device)
    return {
        "unit": "byte",
        "device": device,
        "source": "torch.cuda.max_memory_allocated",
        "before_bytes": int(before),
        "peak_bytes": int(peak),
        "increase_bytes": int(peak - before),
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
        "generation": asdict(generation),
        "prompts": list(prompts),
        "seeds": [int(s) for s in seeds],
        "threads": threads or torch.get_num_threads(),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "vbench_lite.profile.memory_worker"],
        input=json.dumps(request), capture_output=True, text=True, timeout=timeout_s,
        env={**os.environ}, check=False,
    )
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:] or ["(no output)"]
        raise RuntimeError(f"method {method!r}: the peak-memory subprocess failed: {tail[0]}")
    lines = [line for line in proc.stdout.strip().splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"method {method!r}: the peak-memory subprocess printed no result")
    return json.loads(lines[-1])
