"""Measured speedups at real scale: each recipe's denoiser and decoder calls timed on a GPU with random weights.

The table in leaderboards/real_scale/ projects FLOP ratios. This script measures the latencies
beside them. Each architecture's denoiser and VAE decoder are created on the device with their
classes' random initialisation in bf16; no weights are read. Every distinct call a row needs
(latent grid x CFG batch x model) is timed as interleaved pairs against the baseline's full-size
call (vbench_lite.profile.paired.measure_paired: warm-up, then AB / BA pairs, ratio of medians with
a bootstrap 95% interval). The seconds per video of a row add up the median of each call x the
number of times the row's schedule makes it (decoder once). Text encoders are left out: their FLOPs are
under 0.7% of every row (see table.md). Running whole 50-step videos would not fit a short device session;
composing the per-call medians measures the same kernels.

Usage (on a GPU machine, ~2-4 min per architecture at the pipelines' default sizes):
    python benchmarks/real_scale_gpu.py [--architectures wan2.1-t2v-1.3b,...] [--pairs 3] [--warmup 1]
        [--frames N --resolution HxW] [--out leaderboards/real_scale/gpu_latency.json]
Then `python scripts/real_scale_table.py --measured leaderboards/real_scale/gpu_latency.json` fills
the table's measured column. `--device cpu --depth 0.04 --frames 5 --resolution 64x64` is the
smoke test of this script on a CPU. Its latencies there mean nothing: one block, a tiny grid.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from tabulate import tabulate

import vbench_lite
from vbench_lite.fsutil import atomic_write_json
from vbench_lite.profile.latency import Clock, check_device, timed_call
from vbench_lite.profile.paired import measure_paired
from vbench_lite.profile.real_scale import families, list_architectures, load_architecture, method_schedule
from vbench_lite.profile.real_scale.architecture import build
from vbench_lite.profile.real_scale.table import native_schedule
from vbench_lite.profile.real_scale.transforms import (
    snapgen_v_schedule,
    sned_architecture,
    vdmini_architecture,
)

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("real_scale_gpu")


def rows(arch, tpdiff, depth):  # (method, architecture variant, schedule)
    base = native_schedule(arch)
    out = [("baseline", arch, base), ("tpdiff", arch, tpdiff.with_steps(base.steps).with_cfg(base.cfg)),
           ("snapgen-v (projection)", arch, snapgen_v_schedule())]
    vd = vdmini_architecture(arch)
    if vd is not None:
        out.append(("vdmini (projection)", vd, base))
    out += [(f"sned w{w:g} d{d:g} (projection)", sned_architecture(arch, w, d), base) for w, d in ((0.5, 1.0), (1.0, 0.5))]
    if depth < 1:  # smoke test: every model shrunk to a few blocks
        out = [(m, sned_architecture(a, 1.0, depth), s) for m, a, s in out]
    return out


def median_seconds(fn, args) -> float:
    """Median wall time of ``args.pairs`` calls after ``args.warmup`` untimed ones (device synchronised)."""
    clock = Clock(check_device(args.device))
    for _ in range(args.warmup):
        fn()
    return float(np.median([timed_call(fn, clock).wall_s for _ in range(args.pairs)]))


def measure_architecture(arch, tpdiff, args, dtype):
    frames = args.frames or arch.sampling["frames"]
    h, w = args.resolution or (arch.sampling["height"], arch.sampling["width"])
    full = families.latent_grid(arch, frames, h, w)
    pt, ps = families.patch_sizes(arch)
    models: dict[str, torch.nn.Module] = {}
    timed: dict[tuple, dict] = {}
    plan = rows(arch, tpdiff, args.depth)
    base_arch, base_sched = plan[0][1], plan[0][2]

    def model_of(variant):
        key = json.dumps(variant.denoiser["config"], sort_keys=True)
        if key not in models:
            models[key] = build(variant.denoiser, args.device, dtype)
        return key, models[key]

    base_key, base_model = model_of(base_arch)
    reference = families.denoiser_call(base_arch, base_model, full, base_sched.passes, args.device, dtype)
    vae = build(arch.vae, args.device, dtype)
    results = []
    with torch.inference_mode():
        for method, variant, sched in plan:
            key, model = model_of(variant)
            seconds, calls = 0.0, []
            for st in sched.stages:
                grid = full.scaled(st.frames_scale, st.resolution_scale, ps, pt)
                ck = (key, grid, sched.passes)
                if ck not in timed:
                    fn = families.denoiser_call(variant, model, grid, sched.passes, args.device, dtype)
                    pair = measure_paired(fn, reference, names=(f"{method} {grid}", "baseline full call"),
                                          pairs=args.pairs, warmup=args.warmup, device=args.device)
                    timed[ck] = {"grid": dataclasses.asdict(grid), "batch": sched.passes,
                                 "median_s": float(np.median(pair.method.wall())), "paired": pair.to_dict()}
                seconds += st.evaluations * timed[ck]["median_s"]  # the CFG pair is one call's batch
                calls.append({"steps": st.steps, "evaluations": st.evaluations, **timed[ck]})
            dk = ("decode", full.scaled(sched.stages[-1].frames_scale, sched.stages[-1].resolution_scale, ps, pt))
            if dk not in timed:
                timed[dk] = {"median_s": median_seconds(families.decoder_call(arch, vae, dk[1], args.device, dtype), args)}
            seconds += timed[dk]["median_s"]
            results.append({"architecture": arch.name, "method": method, "schedule": sched.to_dict(),
                            "seconds_per_video": seconds, "decode_s": timed[dk]["median_s"], "denoiser_calls": calls})
            logger.info("%s %s: %.2f s per video", arch.name, method, seconds)
    base_s = results[0]["seconds_per_video"]
    for r in results:
        r["measured_speedup"] = base_s / r["seconds_per_video"]
    models.clear()
    del vae
    if args.device.startswith("cuda"):
        torch.cuda.empty_cache()
    return {"frames": frames, "height": h, "width": w, "rows": results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--architectures", default=None)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float16", "float32"))
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--resolution", default=None, help="HxW")
    ap.add_argument("--depth", type=float, default=1.0, help="smoke tests only: keep this share of every model's blocks")
    ap.add_argument("--out", type=Path, default=ROOT / "leaderboards" / "real_scale" / "gpu_latency.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.resolution = tuple(int(x) for x in args.resolution.lower().split("x")) if args.resolution else None
    dtype = getattr(torch, args.dtype)
    adapter = vbench_lite.load_method("tpdiff")
    adapter.load("cpu")
    tpdiff = method_schedule(adapter)
    names = args.architectures.split(",") if args.architectures else list_architectures()
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    report = {"schema": "vbench_lite.real_scale_gpu/1", "device": device_name, "dtype": args.dtype,
              "weights": "random (the classes' initialisation); no weights read",
              "depth_multiplier": args.depth, "pairs": args.pairs, "warmup": args.warmup,
              "versions": {"torch": torch.__version__}, "architectures": {}}
    start = time.perf_counter()
    for name in names:
        report["architectures"][name] = measure_architecture(load_architecture(name), tpdiff, args, dtype)
        atomic_write_json(args.out, report)  # checkpoint after every architecture
    table = [(r["architecture"], r["method"], f"{r['seconds_per_video']:.2f}", f"{r['measured_speedup']:.2f}x")
             for a in report["architectures"].values() for r in a["rows"]]
    print(tabulate(table, headers=("architecture", "method", "s / video", "measured speedup")))
    print(f"{time.perf_counter() - start:.0f} s on {device_name}; written to {args.out}")


if __name__ == "__main__":
    main()
