"""Hardware utilisation: achieved FLOP/s over the machine's measured dense matmul peak.

The peak is measured, not taken from a data sheet: the best throughput of square ``n x n`` matmuls
in the given dtype on the given device and thread count. It is measured once and cached under
``vbench_lite.fsutil.cache_dir("profile")`` keyed by device name, dtype, threads, size and torch
version (a new torch or another thread count measures again).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch

from vbench_lite.env import cpu_name
from vbench_lite.fsutil import cache_dir, read_cache_json, write_cache_json

logger = logging.getLogger(__name__)

CACHE_FILE = "matmul_peak.json"


def _device_name(device: str) -> str:
    return torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else cpu_name()


def _measure(device: str, dtype: torch.dtype, n: int, repeats: int) -> float:
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device=device, dtype=dtype)
    b = torch.randn(n, n, generator=gen).to(device=device, dtype=dtype)
    cuda = device.startswith("cuda")
    inner = 10 if cuda else 1  # GPU matmuls are short: time several per sample
    best = float("inf")
    with torch.inference_mode():
        for i in range(repeats + 2):  # the first two are warm-up (allocator, kernel selection)
            if cuda:
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            for _ in range(inner):
                torch.mm(a, b)
            if cuda:
                torch.cuda.synchronize(device)
            dt = (time.perf_counter() - t0) / inner
            if i >= 2:
                best = min(best, dt)
    return 2 * n**3 / best


def matmul_peak(
    device: str = "cpu", dtype: torch.dtype = torch.float32, *, n: int | None = None, repeats: int = 10,
    refresh: bool = False,
) -> dict[str, Any]:
    """Measured dense matmul peak in FLOP/s (cached); uses torch's current thread count."""
    n = n or (8192 if device.startswith("cuda") else 1024)
    threads = torch.get_num_threads()
    key = f"{_device_name(device)}|{str(dtype).removeprefix('torch.')}|threads={threads}|n={n}|torch={torch.__version__}"
    path = cache_dir("profile") / CACHE_FILE
    cache: dict[str, Any] = read_cache_json(path) or {}  # verified; a corrupt file is re-measured
    if isinstance(cache.get(key), dict) and not refresh:
        return cache[key]
    flops_per_s = _measure(device, dtype, n, repeats)
    record = {
        "flops_per_s": flops_per_s,
        "unit": "FLOP/s",
        "device": _device_name(device),
        "dtype": str(dtype).removeprefix("torch."),
        "threads": threads,
        "n": n,
        "torch": torch.__version__,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    cache[key] = record
    write_cache_json(path, cache)
    logger.info("measured dense matmul peak: %.3g FLOP/s (%s)", flops_per_s, key)
    return record


def utilisation(flops: float, seconds: float, peak_flops_per_s: float) -> float:
    """Fraction of the peak: ``flops / seconds / peak``."""
    if seconds <= 0 or peak_flops_per_s <= 0:
        raise ValueError(f"utilisation needs positive time and peak, got {seconds} s and {peak_flops_per_s} FLOP/s")
    return flops / seconds / peak_flops_per_s
