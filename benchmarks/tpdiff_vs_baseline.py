"""TPDiff against the baseline, measured side by side in one run (issue: TPDiff method).

Prints:
1. inference FLOPs per video and the paired latency at batch 16 (tpdiff and baseline interleaved
   in one process, ratio of medians with a bootstrap 95% interval; wall, CPU time and stages);
   target: TPDiff at least 1.4x faster at batch 16;
2. quality on a suite split: FVD (bootstrap std), KVD, CLIPSIM, VBench-lite for baseline, tpdiff
   and tpdiff:no-align (the data-noise alignment ablation), with the suite's noise floor;
   target: TPDiff's FVD within 15% of the baseline's, or better;
3. training FLOPs per optimiser step (from both runs' logs); target: at most 0.65x;
4. FVD at equal training FLOPs, from the periodic checkpoints of both runs.

Usage:
    python benchmarks/tpdiff_vs_baseline.py [--split validation] [--num-videos 256]
        [--ckpt-videos 64] [--ckpt-every 400] [--skip-checkpoints] [--threads 2] [--only SECTION]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from tabulate import tabulate

import vbench_lite
from vbench_lite.fsutil import cache_dir
from vbench_lite.profile import count_flops
from vbench_lite.spec import GenerationSpec

METHODS = ("baseline", "tpdiff", "tpdiff:no-align")
QUALITY = ("fvd", "kvd", "clipsim", "vbench_quality", "vbench_semantic", "vbench_total")
RUNS = {"baseline": ("baseline", "seed0"), "tpdiff": ("tpdiff", "seed0"), "tpdiff:no-align": ("tpdiff-no-align", "seed0")}


def inference_cost(batch: int, repeats: int) -> None:
    """FLOPs per video, and the paired latency (tpdiff and baseline interleaved in this process)."""
    from vbench_lite.profile.method_profile import compare_methods

    gen = GenerationSpec()
    items = vbench_lite.load_suite("shapes").items("validation", batch)
    prompts, seeds = [it.prompt for it in items], [it.seed for it in items]
    rows, loaded = [], {}
    for name in METHODS[:2]:
        m = vbench_lite.load_method(name)
        m.load("cpu")
        loaded[name] = m
        # Counted at the generation batch and divided by it: the adapters pad every request to a
        # fixed micro-batch of 16 (bit-identical videos however they are batched), so one video
        # alone costs a whole micro-batch; per video at batch 16 is what a video really costs.
        flops = count_flops(lambda m=m: m.generate(prompts, seeds, gen)).scaled(batch)
        rows.append((name, m.describe().get("nfe"), flops.total / 1e9, flops.by_stage.get("denoise", 0) / 1e9))
    rec = compare_methods(loaded["tpdiff"], loaded["baseline"], gen, prompts, seeds, pairs=repeats, warmup=1)
    arms = {"tpdiff": rec["method_runs"], "baseline": rec["reference_runs"]}
    rows = [(*r, arms[r[0]]["median_s_per_video"], arms[r[0]]["cpu_median_s"] / batch,
             *(arms[r[0]]["stage_median_s"].get(k, 0) / batch for k in ("text", "denoise", "decode"))) for r in rows]
    print(f"\n## 1. Inference cost (threads={rec['threads']}, batch {batch}, {rec['pairs']} interleaved pairs)")
    print(tabulate(rows, headers=("method", "NFE", "GFLOPs/video", "denoise GFLOPs", "wall s/video", "CPU s/video",
                                  "text s", "denoise s", "decode s"), floatfmt=".4g"))
    lo, hi = rec["interval"]
    clo, chi = rec["cpu_interval"]
    print(f"paired speedup at batch {batch}: {rec['speedup']:.2f}x [{lo:.2f}, {hi:.2f}] wall, "
          f"{rec['cpu_speedup']:.2f}x [{clo:.2f}, {chi:.2f}] CPU time (target >= 1.4x); "
          f"FLOP ratio {rows[1][2] / rows[0][2]:.3f}; load {rec['load_before']} -> {rec['load_after']}; "
          + ("UNSTABLE: " + "; ".join(rec["unstable_reasons"]) if rec["unstable"] else "stable"))


def quality(split: str, num: int) -> dict[str, dict[str, float]]:
    table, out = [], {}
    for name in METHODS:
        r = vbench_lite.evaluate_method(name, split=split, num_videos=num, metrics=("fvd", "kvd", "clipsim", "vbench"),
                                        progress=True)
        vals = {k: r.metrics[k].value for k in QUALITY if k in r.metrics}
        out[name] = vals
        fvd = r.metrics.get("fvd")
        table.append((name, f"{fvd.value:.2f} ± {fvd.std:.2f}" if fvd and fvd.std is not None else "–",
                      *(f"{vals[k]:.4f}" if k in vals else "–" for k in QUALITY[1:])))
    print(f"\n## 2. Quality on shapes/{split} ({num} videos)")
    print(tabulate(table, headers=("method", "FVD↓", "KVD↓", "CLIPSIM↑", "Quality↑", "Semantic↑", "Total↑")))
    floor = _noise_floor()
    if floor:
        print(f"noise floor (two disjoint real draws): {floor}")
    b, t = out["baseline"].get("fvd"), out["tpdiff"].get("fvd")
    if b and t:
        print(f"TPDiff FVD / baseline FVD = {t / b:.3f} (target <= 1.15)")
    return out


def _noise_floor() -> str | None:
    assets = Path(vbench_lite.__file__).parent / "assets"
    for p in sorted(assets.glob("noise_floor*.json")):
        d = json.loads(p.read_text())
        n = d.get("protocol", {}).get("num_per_side")
        return (f"FVD {d['fvd']['mean']:.1f} ± {d['fvd']['std']:.1f}, KVD {d['kvd']['mean']:.2f} ± {d['kvd']['std']:.2f} "
                f"({d.get('draws')} pairs of disjoint {n}-video real draws; {p.name})")
    return None


def _log(method: str) -> list[dict]:
    from vbench_lite.methods.backbone.trainer import read_log

    return read_log(cache_dir("runs", *RUNS[method]))


def training_cost() -> None:
    print("\n## 3. Training FLOPs per optimiser step (from the training logs)")
    per_step = {}
    for name in METHODS:
        rows = _log(name)
        if rows:
            per_step[name] = rows[-1]["train_flops"] / rows[-1]["step"]
            print(f"{name}: {per_step[name]:.4g} FLOP/step over {rows[-1]['step']} steps")
        else:
            print(f"{name}: no training log in {cache_dir('runs', *RUNS[name])}")
    if "baseline" in per_step and "tpdiff" in per_step:
        print(f"tpdiff / baseline = {per_step['tpdiff'] / per_step['baseline']:.3f} (target <= 0.65; 0.58 in theory)")


def fvd_at_equal_flops(num: int, every: int) -> None:
    """Evaluate the periodic checkpoints of both runs (steps that are multiples of ``every``, and
    the last) and compare FVD at matching training FLOPs."""
    from vbench_lite.methods.backbone.recipe import export_checkpoint

    print(f"\n## 4. FVD at equal training FLOPs ({num} validation videos per checkpoint, every {every} steps)")
    curves: dict[str, list[tuple[float, float]]] = {}
    for name in METHODS[:2]:
        run = cache_dir("runs", *RUNS[name])
        ckpts = sorted(p for p in run.iterdir() if p.name.startswith("step_") and (p / "config.json").is_file())
        ckpts = [p for p in ckpts[:-1] if int(p.name.removeprefix("step_")) % every == 0] + ckpts[-1:]
        for ck in ckpts:
            cfg = json.loads((ck / "config.json").read_text())
            with tempfile.TemporaryDirectory() as tmp:
                export_checkpoint(ck, tmp, seed=0, requested_steps=cfg["step"], title=name,
                                  command=f"benchmarks/tpdiff_vs_baseline.py ({ck.name})")
                cls = type(vbench_lite.load_method(name))
                m = cls(weights=tmp)
                r = vbench_lite.evaluate_method(m, split="validation", num_videos=num, metrics=("fvd",))
            curves.setdefault(name, []).append((float(cfg["train_flops"]), r.metrics["fvd"].value))
            print(f"{name} step {cfg['step']}: {cfg['train_flops']:.3e} FLOPs -> FVD {r.metrics['fvd'].value:.2f}")
    if len(curves) == 2:
        b = np.array(sorted(curves["baseline"]))
        t = np.array(sorted(curves["tpdiff"]))
        rows = []
        for flops, fvd in t:
            if b[0, 0] <= flops <= b[-1, 0]:
                rows.append((f"{flops:.3e}", f"{fvd:.2f}", f"{np.interp(flops, b[:, 0], b[:, 1]):.2f}"))
        print(tabulate(rows, headers=("train FLOPs", "tpdiff FVD", "baseline FVD (interp.)")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="validation", choices=("validation", "eval"))
    ap.add_argument("--num-videos", type=int, default=256)
    ap.add_argument("--ckpt-videos", type=int, default=64)
    ap.add_argument("--ckpt-every", type=int, default=400, help="evaluate checkpoints at multiples of this step")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-checkpoints", action="store_true")
    ap.add_argument("--only", choices=("cost", "quality", "training", "checkpoints"), default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps = {"cost": lambda: inference_cost(16, args.repeats), "quality": lambda: quality(args.split, args.num_videos),
             "training": training_cost, "checkpoints": lambda: fvd_at_equal_flops(args.ckpt_videos, args.ckpt_every)}
    for key, fn in steps.items():
        if args.only in (None, key) and not (key == "checkpoints" and args.skip_checkpoints and args.only is None):
            fn()


if __name__ == "__main__":
    main()
