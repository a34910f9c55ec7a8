"""FVD of a VDMini variant's intermediate training checkpoints: where does more training help or hurt?

Exports the EMA model of each ``step_NNNNNNN`` checkpoint of a variant's run folder (the cache's
``runs/<recipe.run_name(variant)>/seed0`` unless ``--run-dir``) the way the recipe exports the final one, and
evaluates FVD (with bootstrap std) on the same validation videos as ``benchmarks/vdmini_vs_baseline.py``.
Written for the observation that ``vdmini`` (ICD + MCA at the paper's weights) got worse from 200 to
1060 steps while the variants without MCA improved. Measured (2026-12-01, 256 videos, seed 0): with
the MCA term unbalanced (run folder ``vdmini``) step 200 253.4, 400 277.0 ± 22.3, 600 365.0 ± 31.5,
800 373.4 ± 32.6, 1060 428.8 ± 42.2 (200 and 1060 from the benchmark); with the adaptive balance
(``vdmini-adaptive``, the shipped weights) 200 398.8 ± 37.9, 400 270.1 ± 25.3, 600 260.6 ± 23.3,
800 218.9 ± 18.9, 1060 245.5 ± 22.1. Usage::

    python research/vdmini_checkpoint_fvd.py [--variant mca] [--steps 400,600,800] [--num-videos 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import vbench_lite
from vbench_lite.fsutil import cache_dir
from vbench_lite.methods.backbone.recipe import FRAMES, RESOLUTION, SAMPLER, export_checkpoint
from vbench_lite.methods.vdmini import VDMiniMethod
from vbench_lite.methods.vdmini.recipe import run_name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default=None, help="task-only, icd, mca or magnitude (default: vdmini itself)")
    ap.add_argument("--steps", default="400,600,800,1000", help="comma-separated checkpoint steps")
    ap.add_argument("--run-dir", default=None)
    ap.add_argument("--num-videos", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    full = run_name(args.variant)
    run_dir = Path(args.run_dir) if args.run_dir else cache_dir("runs", full, "seed0")
    rows = []
    for step in (int(s) for s in args.steps.split(",")):
        ckpt = run_dir / f"step_{step:07d}"
        if not (ckpt / "manifest.json").is_file():
            print(f"{full} step {step}: no checkpoint in {run_dir}")
            continue
        out = cache_dir("research", "vdmini_checkpoint_fvd", full, f"step{step}")
        export_checkpoint(ckpt, out, seed=0, requested_steps=step, title=f"{full} step {step}",
                          command=f"research/vdmini_checkpoint_fvd.py step {step}", sampler=SAMPLER,
                          extra_config={"generation": {"frames": FRAMES, "resolution": RESOLUTION}})
        method = VDMiniMethod(variant=args.variant, weights=str(out))
        r = vbench_lite.evaluate_method(method, split="validation", num_videos=args.num_videos, metrics=("fvd",))
        fvd = r.metrics["fvd"]
        rows.append((step, fvd.value, fvd.std or 0.0))
        print(f"{full} step {step}: FVD {fvd.value:.1f} ± {fvd.std:.1f}", flush=True)
    print(f"\n{full}, validation, {args.num_videos} videos")
    for step, v, s in rows:
        print(f"  step {step:5d}  FVD {v:6.1f} ± {s:.1f}")


if __name__ == "__main__":
    main()
