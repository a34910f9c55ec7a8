"""SnapGen-V and its ablations against the 30-step CFG baseline, side by side (issue 16).

Prints, and writes as JSON to ``benchmarks/results/snapgen_v_vs_baseline.json``:
1. cost: parameters, NFE, FLOPs per video, and the paired latency speedup per video at batch 16
   against the baseline (interleaved in one process; target: at least 10x faster);
2. quality on a suite split for the baseline and every shipped variant, same prompts and seeds:
   FVD with its bootstrap std, KVD, CLIPSIM, VBench-lite Quality / Semantic; the suite's noise
   floor; the targets: ``snapgen-v`` FVD within 30% of the baseline's, and better than
   ``snapgen-v:no-adv`` by more than the noise (combined bootstrap std, and the noise floor's std);
3. the search's lookup table and trace, copied beside it (``snapgen_v_latency_table.json``,
   ``snapgen_v_search.json``).

Usage:
    python benchmarks/snapgen_v_vs_baseline.py [--split validation] [--num-videos 256]
        [--pairs 5] [--threads 1] [--only cost|quality]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path
from typing import Any

import torch
from method_cost import add_common_args, method_cost, validation_batch
from tabulate import tabulate

import vbench_lite
from vbench_lite.spec import GenerationSpec

BASELINE = "baseline"
VARIANTS = ("snapgen-v", "snapgen-v:no-adv", "snapgen-v:baseline-arch")
RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "snapgen_v_vs_baseline.json"


def shipped(name: str) -> bool:
    m = vbench_lite.load_method(name)
    return (Path(m.weights_dir) / "manifest.json").is_file()


def cost(pairs: int, threads: int) -> dict[str, Any]:
    gen = GenerationSpec()
    prompts, seeds = validation_batch(16)
    base = method_cost(BASELINE, gen, prompts, seeds)
    b_info, b_flops = base.info, base.flops_per_video
    rows = [(BASELINE, b_info["params"], b_info["nfe"], b_flops / 1e9, 1.0, base.speedup, base.stability)]
    out: dict[str, Any] = {BASELINE: {"params": b_info["params"], "nfe": b_info["nfe"], "flops_per_video": b_flops}}
    for name in VARIANTS:
        if name == "snapgen-v:no-adv" or not shipped(name):
            continue  # no-adv has snapgen-v's architecture and sampler: the same cost
        c = method_cost(name, gen, prompts, seeds, reference=base, pairs=pairs, threads=threads)
        assert c.paired is not None
        info, flops = c.info, c.flops_per_video
        rows.append((name, info["params"], info["nfe"], flops / 1e9, b_flops / flops, c.speedup, c.stability))
        out[name] = {"params": info["params"], "nfe": info["nfe"], "flops_per_video": flops,
                     "flop_reduction": b_flops / flops, "speedup": c.paired.speedup,
                     "speedup_interval": list(c.paired.interval), "stability": c.stability,
                     "paired": c.paired.to_dict()}
    print(f"\n## 1. Cost (batch 16, threads={threads}, {pairs} interleaved pairs; FLOPs = 2 x MAC per video)")
    print(tabulate(rows, headers=("method", "params", "NFE", "GFLOPs/video", "FLOP reduction",
                                  "speedup vs baseline [95% CI]", "paired-latency stability"), floatfmt=".4g"))
    if "snapgen-v" in out:
        s = out["snapgen-v"]["speedup"]
        print(f"target: snapgen-v at least 10x faster than the 30-step CFG baseline: {s:.2f}x -> "
              f"{'met' if s >= 10 else 'MISSED'}")
    return out


def quality(split: str, num: int) -> dict[str, Any]:
    names = [BASELINE, *(v for v in VARIANTS if shipped(v))]
    out: dict[str, Any] = {}
    table = []
    for name in names:
        r = vbench_lite.evaluate_method(name, split=split, num_videos=num, metrics=("fvd", "kvd", "clipsim", "vbench"),
                                        progress=True)
        m = r.metrics
        out[name] = {k: {"value": v.value, "std": v.std} for k, v in m.items()}
        table.append((name, f"{m['fvd'].value:.1f} ± {m['fvd'].std:.1f}", f"{m['kvd'].value:.1f} ± {m['kvd'].std:.1f}",
                      f"{m['clipsim'].value:.4f}", f"{m['vbench_quality'].value:.4f}",
                      f"{m['vbench_semantic'].value:.4f}"))
    print(f"\n## 2. Quality on shapes/{split} ({num} videos, same prompts and seeds for every row)")
    print(tabulate(table, headers=("method", "FVD↓ ± bootstrap std", "KVD↓ ± std", "CLIPSIM↑", "Quality↑", "Semantic↑")))
    floor = noise_floor()
    out["noise_floor"] = floor
    print(f"noise floor: FVD between disjoint 256-video real draws {floor['mean']:.1f} ± {floor['std']:.1f}")
    missing = [v for v in VARIANTS if v not in out]
    if missing:
        print(f"not trained (no shipped weights): {', '.join(missing)}")
    if "snapgen-v" not in out:
        return out
    fvd = lambda k: out[k]["fvd"]["value"]  # noqa: E731
    std = lambda k: out[k]["fvd"]["std"] or 0.0  # noqa: E731
    ratio = fvd("snapgen-v") / fvd(BASELINE)
    targets = {"fvd_ratio_to_baseline": ratio, "fvd_within_30pct": ratio <= 1.30}
    print(f"snapgen-v FVD / baseline FVD = {ratio:.3f} (target <= 1.30) -> {'met' if ratio <= 1.30 else 'MISSED'}")
    if "snapgen-v:no-adv" in out:
        margin = fvd("snapgen-v:no-adv") - fvd("snapgen-v")
        noise = math.hypot(std("snapgen-v"), std("snapgen-v:no-adv"))
        beyond = margin > 2 * noise and margin > floor["std"]
        targets.update({"margin_vs_no_adv": margin, "combined_std": noise, "beyond_noise": beyond})
        print(f"snapgen-v vs no-adv: FVD margin {margin:+.1f}, combined bootstrap std {noise:.1f}, noise floor std "
              f"{floor['std']:.1f} -> {'clearly better (> 2 std and > floor std)' if beyond else 'NOT clearly better'}")
    if "snapgen-v:baseline-arch" in out:
        print(f"snapgen-v:baseline-arch FVD / baseline FVD = {fvd('snapgen-v:baseline-arch') / fvd(BASELINE):.3f}")
    out["targets"] = targets
    return out


def noise_floor() -> dict[str, float]:
    d = json.loads((Path(vbench_lite.__file__).parent / "assets" / "noise_floor_shapes.json").read_text())
    return {"mean": d["fvd"]["mean"], "std": d["fvd"]["std"]}


def copy_search() -> None:
    from vbench_lite.methods.snapgen_v.search import SEARCH_DIR

    for src, dst in (("latency_table.json", "snapgen_v_latency_table.json"), ("search.json", "snapgen_v_search.json")):
        if (SEARCH_DIR / src).is_file():
            shutil.copyfile(SEARCH_DIR / src, RESULTS / dst)
    doc = json.loads((SEARCH_DIR / "search.json").read_text())
    chosen = doc.get("chosen")
    if chosen:
        print("\n## 3. Search")
        print(f"chosen (candidate {chosen['index']} of {len([r for r in doc['trace'] if r['status'] == 'scored'])} "
              f"trained, {len(doc['trace'])} proposals): {chosen['genes']}")
        print(f"table estimate {chosen['estimate']['latency_ratio']:.3f} of the baseline's denoiser call; whole call "
              f"measured {chosen.get('whole_call', {}).get('ratio', float('nan')):.3f} (budget {doc['budget']['latency_ratio']})")
        rc = doc.get("rank_check")
        if rc:
            print(f"proxy vs {rc['steps']}-step training on 3 candidates: Kendall tau {rc['kendall_tau']:.2f}, "
                  f"{[(r['index'], round(r['proxy'], 1), round(r['long'], 1)) for r in rc['rows']]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out_path = Path(args.out)
    doc: dict[str, Any] = json.loads(out_path.read_text()) if out_path.is_file() else {}
    doc.update({"split": args.split, "num_videos": args.num_videos, "threads": args.threads, "pairs": args.pairs})
    if args.only in (None, "cost"):
        doc["cost"] = cost(args.pairs, args.threads)
    if args.only in (None, "quality"):
        doc["quality"] = quality(args.split, args.num_videos)
    copy_search()
    from vbench_lite.env import capture_env
    from vbench_lite.fsutil import atomic_write_json

    doc["env"] = capture_env("cpu")
    atomic_write_json(out_path, doc)
    print(f"\nwrote {out_path}")


if __name__ == "__main__":
    main()
