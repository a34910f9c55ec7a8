"""Subprocess entry point of the CPU peak-memory measurement (see :mod:`vbench_lite.profile.memory`).

Reads one JSON request on stdin (method, generation spec, prompts, seeds, threads), loads the method
by registry name, runs one generation and prints one JSON line with the resident-set-size numbers.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
from pathlib import Path


def _status_bytes(field: str) -> int | None:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0, proc(5) ``clear_refs`` value 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def main() -> int:
    import torch

    from vbench_lite import load_method
    from vbench_lite.profile.memory import StagePeaks, stage_increases
    from vbench_lite.profile.stages import listening
    from vbench_lite.spec import GenerationSpec

    request = json.loads(sys.stdin.read())
    torch.set_num_threads(int(request["threads"]))
    adapter = load_method(request["method"])
    adapter.load("cpu")
    spec = GenerationSpec(**request["generation"])
    gc.collect()
    before = _status_bytes("VmRSS")
    reset = before is not None and _reset_peak()
    prompts, seeds = list(request["prompts"]), list(request["seeds"])
    stages: dict[str, int] = {}
    if reset:
        peaks = StagePeaks(lambda: _status_bytes("VmHWM") or 0, _reset_peak)
        with listening(peaks):
            videos = adapter.generate(prompts, seeds, spec)
        peak, source = peaks.finish(), "VmHWM after clear_refs reset"
        stages = stage_increases(peaks, before or 0)
    else:  # ru_maxrss is in KiB on Linux; it may include the peak of loading the weights
        videos = adapter.generate(prompts, seeds, spec)
        peak, source = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "ru_maxrss (whole process)"
        before = before or 0
    result = {
        "unit": "byte",
        "device": "cpu",
        "source": source,
        "batch": len(request["prompts"]),
        "before_bytes": before,
        "peak_bytes": peak,
        "increase_bytes": max(0, peak - before),
        "stage_increase_bytes": stages,
        "output_shape": list(videos.shape),
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
