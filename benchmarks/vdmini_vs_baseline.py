"""VDMini and its ablations against the teacher (the baseline), side by side (issue: VDMini).

Prints:
1. cost: parameters, FLOPs per video, and the paired latency speedup at batch 16 against the
   teacher (interleaved in one process; target: at least 1.25x faster);
2. quality on a suite split for the teacher and every shipped variant: FVD with its bootstrap std,
   KVD, VBench-lite Quality / Semantic and the motion dimensions; the suite's noise floor; the
   targets: ``vdmini`` (ICD + MCA) the best variant by FVD beyond the noise, within 20% of the
   teacher's FVD, and the ablation ordering against the paper's (SF-V, UCF-101 FVD).

Usage:
    python benchmarks/vdmini_vs_baseline.py [--split validation] [--num-videos 256]
        [--pairs 5] [--threads 1] [--only cost|quality]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch
from method_cost import add_common_args, method_cost, validation_batch
from tabulate import tabulate

import vbench_lite
from vbench_lite.spec import GenerationSpec

TEACHER = "baseline"
VARIANTS = ("vdmini", "vdmini:icd", "vdmini:mca", "vdmini:task-only", "vdmini:magnitude")
# Wu et al. 2025, ablation on SF-V (UCF-101 FVD, lower is better).
PAPER_FVD = {"teacher": 166, "vdmini": 198, "vdmini:icd": 224, "vdmini:mca": 258, "vdmini:task-only": 290}
MOTION = ("vbench_dynamic_degree", "vbench_motion_direction", "vbench_motion_smoothness")


def shipped(name: str) -> bool:
    m = vbench_lite.load_method(name)
    return (Path(m.weights_dir) / "manifest.json").is_file()


def cost(pairs: int, threads: int) -> None:
    gen = GenerationSpec()
    prompts, seeds = validation_batch(16)
    teacher = method_cost(TEACHER, gen, prompts, seeds)
    t_flops = teacher.flops_per_video
    rows = [(TEACHER, teacher.info["params"], teacher.info["params_breakdown"]["unet"], t_flops / 1e9, 1.0,
             teacher.speedup, teacher.stability)]
    # The ablations share vdmini's architecture (same pruned blocks): their cost is vdmini's.
    for name in ("vdmini", "vdmini:magnitude"):
        if not shipped(name):
            rows.append((name, "not trained", "", "", "", "", ""))
            continue
        c = method_cost(name, gen, prompts, seeds, reference=teacher, pairs=pairs, threads=threads)
        rows.append((name, c.info["params"], c.info["params_breakdown"]["unet"], c.flops_per_video / 1e9,
                     c.flops_per_video / t_flops, c.speedup, c.stability))
    print(f"\n## 1. Cost (batch 16, threads={threads}, {pairs} interleaved pairs)")
    print(tabulate(rows, headers=("method", "params", "UNet params", "GFLOPs/video", "FLOP ratio",
                                  "speedup vs teacher [95% CI]", "paired-latency stability"), floatfmt=".4g"))
    print("target: vdmini at least 1.25x faster than the teacher at batch 16")


def quality(split: str, num: int) -> None:
    names = [TEACHER, *(v for v in VARIANTS if shipped(v))]
    missing = [v for v in VARIANTS if v not in names]
    out, table = {}, []
    for name in names:
        r = vbench_lite.evaluate_method(name, split=split, num_videos=num, metrics=("fvd", "kvd", "vbench"),
                                        progress=True)
        vals = {k: m.value for k, m in r.metrics.items()}
        fvd = r.metrics["fvd"]
        out[name] = (fvd.value, fvd.std or 0.0)
        steps = (r.method_info.get("training") or {}).get("steps", "–")
        table.append((name, steps, f"{fvd.value:.1f} ± {fvd.std:.1f}", f"{vals['kvd']:.1f}", f"{vals['vbench_quality']:.4f}",
                      f"{vals['vbench_semantic']:.4f}", *(f"{vals[k]:.4f}" for k in MOTION),
                      PAPER_FVD.get("teacher" if name == TEACHER else name, "–")))
    print(f"\n## 2. Quality on shapes/{split} ({num} videos, same prompts and seeds for every row)")
    print(tabulate(table, headers=("method", "train steps", "FVD↓ ± bootstrap std", "KVD↓", "Quality↑", "Semantic↑", "dyn. degree",
                                   "motion dir.↑", "smoothness↑", "paper FVD (SF-V)")))
    if missing:
        print(f"not trained (no shipped weights): {', '.join(missing)}")
    floor = _noise_floor()
    if floor:
        print(f"noise floor: FVD between disjoint real draws {floor[0]:.1f} ± {floor[1]:.1f}")
    if "vdmini" not in out:
        print("vdmini is not trained: no targets to check")
        return
    v, vs = out["vdmini"]
    t = out[TEACHER][0]
    print(f"vdmini FVD / teacher FVD = {v / t:.3f} (target <= 1.20)")
    rivals = {k: val for k, val in out.items() if k not in (TEACHER, "vdmini")}
    if rivals:
        best = min(rivals, key=lambda k: rivals[k][0])
        margin = rivals[best][0] - v
        noise = math.hypot(vs, rivals[best][1])
        verdict = "best, beyond the noise" if margin > noise else ("best, within the noise" if margin > 0 else "not the best")
        print(f"vdmini vs the best other variant ({best}): FVD margin {margin:+.1f}, combined bootstrap std "
              f"{noise:.1f} -> {verdict}")
    paper_key = lambda k: "teacher" if k == TEACHER else k  # noqa: E731
    listed = [k for k in out if paper_key(k) in PAPER_FVD]
    ours = sorted(listed, key=lambda k: out[k][0])
    paper = sorted(listed, key=lambda k: PAPER_FVD[paper_key(k)])
    print(f"FVD ordering here:  {' < '.join(ours)}")
    print(f"paper's ordering:   {' < '.join(paper)}")


def _noise_floor() -> tuple[float, float] | None:
    assets = Path(vbench_lite.__file__).parent / "assets"
    for p in sorted(assets.glob("noise_floor*.json")):
        d = json.loads(p.read_text())
        return d["fvd"]["mean"], d["fvd"]["std"]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.only in (None, "cost"):
        cost(args.pairs, args.threads)
    if args.only in (None, "quality"):
        quality(args.split, args.num_videos)


if __name__ == "__main__":
    main()
