"""Time to generate 64 baseline videos (issue 3 target: under 60 s on the 2-core reference machine).

One warm-up micro-batch, then ``--repeats`` timed runs of ``--num`` videos (eval prompts); prints the
median and every run, the torch thread count, the per-call denoiser latency at batch 32, and the
process CPU time (on a shared machine, wall time also counts the other jobs' share of the cores). Usage::

    python benchmarks/baseline_speed.py [--num 64] [--repeats 1] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="baseline")
    p.add_argument("--num", type=int, default=64)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from vbench_lite import load_method
    from vbench_lite.env import cpu_name
    from vbench_lite.spec import GenerationSpec
    from vbench_lite.suites.shapes import ShapesSuite

    method = load_method(args.method)
    method.load("cpu")
    items = ShapesSuite().items("eval", args.num)
    prompts, seeds = [it.prompt for it in items], [it.seed for it in items]
    spec = GenerationSpec()
    method.generate(prompts[:1], seeds[:1], spec)  # warm-up
    unet, inputs = method.denoiser()
    with torch.no_grad():
        unet(*inputs)
        calls, call_cpu = [], []
        for _ in range(5):
            t, c = time.perf_counter(), time.process_time()
            unet(*inputs)
            calls.append(time.perf_counter() - t)
            call_cpu.append(time.process_time() - c)
    runs, cpu = [], []
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        method.generate(prompts, seeds, spec)
        runs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    out = {
        "method": args.method,
        "num_videos": args.num,
        "seconds_median": statistics.median(runs),
        "seconds_runs": runs,
        # CPU seconds of this process (all threads): the cost without other jobs competing for cores
        "cpu_seconds_median": statistics.median(cpu),
        "load_average_1min": os.getloadavg()[0],
        "target_s": 60.0,
        "passed": statistics.median(runs) < 60.0,
        "denoiser_call_batch": int(inputs[0].shape[0]),
        "denoiser_call_s_median": statistics.median(calls),
        "denoiser_call_cpu_s_median": statistics.median(call_cpu),
        "torch_threads": torch.get_num_threads(),
        "cpu": cpu_name(),
        "describe": {k: v for k, v in method.describe().items() if k in ("params", "steps", "nfe", "micro_batch")},
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
