"""Where TPDiff's time goes: one UNet call at T/4, T/2 and T frames, timed interleaved (issue 24).

TPDiff's FLOPs per video are 0.611x the baseline's (1.64x); its measured speedup is lower. Its
denoiser runs 10 CFG calls at each of 4, 8 and 16 latent frames where the baseline runs 30 at 16,
so if latency followed FLOPs the denoise stage would be ``30 c16 / (10 (c4 + c8 + c16))`` faster,
with ``c_t`` the time of one call at t frames. This script measures ``c_t`` (the shipped tpdiff
UNet on its example CFG inputs of 32 rows, cut to t frames), in rounds that rotate the order of the
three sizes so that machine-load drift charges them alike, at each thread count asked for, and prints:

- per call: median wall and process CPU seconds, FLOPs, achieved GFLOP/s, and the time the call
  would take if it cost its FLOP share of the 16-frame call (the excess is fixed per-call overhead
  or kernels that are less efficient on small tensors);
- a least-squares fit ``c_t = a + b * FLOPs_t``: ``a`` is the per-call overhead that does not shrink
  with the frame count;
- the denoise-stage speedup the measured ``c_t`` predict against the one the FLOPs predict;
- thread efficiency: wall at 1 thread / wall at N threads, per frame count.

    python benchmarks/tpdiff_latency.py [--rounds 8] [--threads 1,2]

On a shared machine read the CPU-time columns first and the load printed with them.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from tabulate import tabulate

import vbench_lite
from vbench_lite.profile import count_flops
from vbench_lite.profile.latency import Clock, fixed_threads, timed_call

FRAMES = (4, 8, 16)


def calls(method: str) -> dict[int, object]:
    m = vbench_lite.load_method(method)
    m.load("cpu")
    unet, (x, *rest) = m.denoiser()
    return {t: (lambda t=t: unet(x[:, :, :t].contiguous(), *rest)) for t in FRAMES}


def measure(fns: dict[int, object], rounds: int, threads: int) -> dict[int, dict[str, float]]:
    clock = Clock("cpu")
    out: dict[int, list] = {t: [] for t in FRAMES}
    with fixed_threads(threads), torch.no_grad():
        for fn in fns.values():  # warm-up
            fn()
        for r in range(rounds):
            order = FRAMES[r % 3:] + FRAMES[:r % 3]
            for t in order:
                out[t].append(timed_call(fns[t], clock))
    return {t: {"wall": float(np.median([x.wall_s for x in runs])), "cpu": float(np.median([x.cpu_s for x in runs]))}
            for t, runs in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", default="tpdiff")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    args = ap.parse_args()
    fns = calls(args.method)
    with torch.no_grad():
        flops = {t: count_flops(fns[t]).total for t in FRAMES}
    thread_counts = [int(x) for x in args.threads.split(",")]
    results = {}
    for n in thread_counts:
        load0 = os.getloadavg()[0]
        results[n] = measure(fns, args.rounds, n)
        load1 = os.getloadavg()[0]
        res = results[n]
        print(f"\n## one UNet call (32 rows = 16 videos x CFG), {n} thread(s), {args.rounds} rounds; "
              f"load average {load0:.2f} -> {load1:.2f} on {len(os.sched_getaffinity(0))} cores")
        rows = []
        for t in FRAMES:
            share = res[16]["wall"] * flops[t] / flops[16]
            rows.append((t, f"{flops[t] / 1e9:.3f}", f"{res[t]['wall'] * 1e3:.1f}", f"{res[t]['cpu'] * 1e3:.1f}",
                         f"{flops[t] / res[t]['wall'] / 1e9:.2f}", f"{share * 1e3:.1f}",
                         f"{res[t]['wall'] / share:.2f}"))
        print(tabulate(rows, headers=("frames", "GFLOP/call", "wall ms", "CPU ms", "GFLOP/s", "ms at 16-frame FLOP/s",
                                      "wall / FLOP share"), disable_numparse=True))
        f = np.array([flops[t] for t in FRAMES], float)
        for key in ("wall", "cpu"):
            c = np.array([res[t][key] for t in FRAMES])
            b, a = np.polyfit(f, c, 1)
            print(f"fit {key}: c_t = {a * 1e3:.1f} ms + {b * 1e12:.2f} ms/TFLOP x FLOPs_t "
                  f"(per-call overhead {100 * a / c[-1]:.0f}% of a 16-frame call)")
        for key in ("wall", "cpu"):
            pred = 30 * res[16][key] / (10 * sum(res[t][key] for t in FRAMES))
            print(f"denoise speedup predicted from measured {key} per call: {pred:.2f}x")
        print(f"denoise speedup predicted from FLOPs: {30 * flops[16] / (10 * sum(flops.values())):.2f}x")
    if 1 in results and len(results) > 1:
        for n in thread_counts:
            if n == 1:
                continue
            eff = ", ".join(f"{t} frames {results[1][t]['wall'] / results[n][t]['wall']:.2f}x" for t in FRAMES)
            print(f"\nthread scaling 1 -> {n} threads (ideal {n}x): {eff}")


if __name__ == "__main__":
    main()
