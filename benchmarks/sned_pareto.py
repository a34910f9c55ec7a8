"""SNED (issue 17): the trained supernet's Pareto front and the comparisons the paper claims.

Prints side by side, and writes ``benchmarks/results/sned_pareto.{md,json,png}``:
1. the search: every candidate subnet (:func:`vbench_lite.methods.sned.search.candidates`) with its
   FLOPs per video and FVD / KVD on the ``validation`` split; the Pareto front (FLOPs against KVD)
   per resolution, with the paired latency of each front point against the baseline (interleaved
   in one process, same prompts and seeds; the baseline makes its 32 px videos); where each preset
   lies; target: the front spans at least 2.5x in FLOPs over two or more resolutions;
2. supernet against standalone: the ``m-32`` subnet against the same architecture trained on its
   own (``sned:standalone-m-32``) for as many optimiser steps as the supernet drew its cost bucket
   at 32 px; target: the subnet's FVD within 15% of the standalone's;
3. sampling warm-up against none: KVD of the 32 px full-width and 0.75x-width subnets at the
   checkpoints of steps 200, 400 and 600 of the supernet run and of the run without warm-up
   (``sned:no-warmup``);
4. the absolute floor: ``sned:l-32`` against the baseline; targets: VBench-lite Semantic at least
   90% of the baseline's and FVD within 20% of it.

Usage:
    python benchmarks/sned_pareto.py [--num-videos 32] [--final-videos 64] [--pairs 3] [--threads 2]
        [--all-widths] [--only search|standalone|warmup|floor] [--warmup-run warm-up|no-warm-up]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tabulate import tabulate

import vbench_lite
from vbench_lite.methods.sned import SNEDMethod
from vbench_lite.methods.sned.presets import PRESETS, SPACE
from vbench_lite.methods.sned.recipe import weights_dir
from vbench_lite.methods.sned.search import Candidate, candidates, evaluate, pareto_front, pick_presets
from vbench_lite.methods.sned.search_space import SubnetArch
from vbench_lite.spec import GenerationSpec

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "results"
LOG = logging.getLogger("sned_pareto")


def _pretty_preset(arch: SubnetArch) -> str:
    return next((f"sned:{k}" for k, a in PRESETS.items() if a == arch), "")


def search(num: int, pairs: int, threads: int, report: dict[str, Any], md: list[str], all_widths: bool) -> None:
    archs = candidates(SPACE, all_widths=all_widths, include=list(PRESETS.values()))
    cands = evaluate(archs, lambda a: SNEDMethod(arch=a), num_videos=num)
    fronts = {r: pareto_front([c for c in cands if c.arch.resolution == r]) for r in SPACE.resolutions}
    joint = pareto_front(cands)
    latency = paired_latency([c for f in fronts.values() for c in f], pairs, threads)
    rows = []
    for c in sorted(cands, key=lambda c: (c.arch.resolution, c.gflops)):
        on = c in fronts[c.arch.resolution]
        lat = latency.get(c.arch)
        rows.append((c.arch.label(), _pretty_preset(c.arch), f"{c.gflops:.3f}", c.params,
                     f"{c.metrics['fvd']:.1f} ± {c.stds.get('fvd', 0):.1f}", f"{c.metrics['kvd']:.1f}",
                     "front" if on else "", "joint" if c in joint else "",
                     f"{lat['speedup']:.2f}x [{lat['interval'][0]:.2f}, {lat['interval'][1]:.2f}]" if lat else ""))
    head = ("subnet", "preset", "GFLOPs/video", "params", "FVD↓ ± std", "KVD↓", "per-res front", "joint front",
            "speedup vs baseline (paired)")
    table = tabulate(rows, headers=head, tablefmt="github")
    spans = {r: (max(c.gflops for c in f) / min(c.gflops for c in f)) for r, f in fronts.items()}
    joint_span = max(c.gflops for c in joint) / min(c.gflops for c in joint)
    res_on_joint = sorted({c.arch.resolution for c in joint})
    md += [f"## 1. Search: {len(cands)} candidates, FVD/KVD on shapes/validation ({num} videos each)", "", table, "",
           "FLOP span of each resolution's front: " + ", ".join(f"{r} px {s:.2f}x" for r, s in spans.items()),
           f"joint front (all resolutions): {len(joint)} points over {res_on_joint} px, spanning {joint_span:.2f}x "
           f"in FLOPs (target: >= 2.5x over >= 2 resolutions: "
           f"{'met' if joint_span >= 2.5 and len(res_on_joint) >= 2 else 'missed'})", ""]
    presets = []
    for name, arch in PRESETS.items():
        c = next(c for c in cands if c.arch == arch)
        presets.append(f"sned:{name}: {'on' if c in fronts[arch.resolution] else 'off'} the {arch.resolution} px front, "
                       f"{'on' if c in joint else 'off'} the joint front")
    md += ["Presets: " + "; ".join(presets), ""]
    # the naming rule of methods/sned/presets.py, applied to this search's fronts
    picks = {f"{size}-{r}": c for r in SPACE.resolutions
             for size, c in pick_presets(fronts[r], [c for c in cands if c.arch.resolution == r]).items()}
    rows = [(f"sned:{k}", c.arch.label(), f"{c.gflops:.3f}", f"{c.metrics['kvd']:.1f}",
             "on" if c in fronts[c.arch.resolution] else "off (no front point between s and l)",
             "yes" if PRESETS.get(k) == c.arch else "no") for k, c in picks.items()]
    md += ["Presets picked from the fronts (`search.pick_presets`: l the dearest front point, s the cheapest, "
           "m the front point nearest their geometric-mean cost):", "",
           tabulate(rows, headers=("preset", "subnet", "GFLOPs/video", "KVD↓", "front", "= presets.py"),
                    tablefmt="github"), ""]
    report["search"] = {"num_videos": num, "candidates": [c.to_dict() for c in cands],
                        "fronts": {str(r): [c.arch.label() for c in f] for r, f in fronts.items()},
                        "joint_front": [c.arch.label() for c in joint], "front_spans": spans, "joint_span": joint_span,
                        "picked_presets": {k: c.arch.to_dict() for k, c in picks.items()},
                        "latency": {a.label(): v for a, v in latency.items()}}
    plot_front(cands, fronts, OUT / "sned_pareto.png")


def paired_latency(points: list[Candidate], pairs: int, threads: int, batch: int = 4) -> dict[SubnetArch, dict]:
    from vbench_lite.profile.paired import measure_paired

    items = vbench_lite.load_suite("shapes").items("validation", batch)
    prompts, seeds = [it.prompt for it in items], [it.seed for it in items]
    base = vbench_lite.load_method("baseline")
    base.load("cpu")
    out = {}
    for c in points:
        m = SNEDMethod(arch=c.arch)
        m.load("cpu")
        spec = GenerationSpec(resolution=c.arch.resolution)
        p = measure_paired(lambda m=m, spec=spec: m.generate(prompts, seeds, spec),
                           lambda: base.generate(prompts, seeds, GenerationSpec()),
                           names=(c.arch.label(), "baseline"), pairs=pairs, warmup=1, threads=threads, per=batch)
        out[c.arch] = {"speedup": p.speedup, "interval": list(p.interval), "unstable": p.unstable_reasons,
                       "method_s_per_video": float(np.median(p.method.wall())) / batch,
                       "baseline_s_per_video": float(np.median(p.reference.wall())) / batch}
    return out


def plot_front(cands: list[Candidate], fronts: dict[int, list[Candidate]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = {24: "tab:blue", 32: "tab:orange", 48: "tab:green"}
    for ax, metric in zip(axes, ("fvd", "kvd")):
        for r in SPACE.resolutions:
            pts = [c for c in cands if c.arch.resolution == r]
            ax.scatter([c.gflops for c in pts], [c.metrics[metric] for c in pts], s=14, alpha=0.45, color=colors[r])
            f = fronts[r]
            ax.plot([c.gflops for c in f], [c.metrics[metric] for c in f], "-o", ms=5, color=colors[r], label=f"{r} px front")
            for name, arch in PRESETS.items():
                c = next((c for c in pts if c.arch == arch), None)
                if c is not None:
                    ax.annotate(name, (c.gflops, c.metrics[metric]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("GFLOPs per video (log)")
        ax.set_ylabel(f"{metric.upper()} (validation) ↓")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("SNED supernet subnets: Pareto front per resolution (front by KVD)")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _shipped(variant: str | None) -> Path | None:
    d = weights_dir(variant)
    return d if (d / "manifest.json").is_file() else None


def _steps(folder: Path) -> int:
    return int(json.loads((folder / "config.json").read_text())["training"]["steps"])


def standalone(num: int, report: dict[str, Any], md: list[str]) -> None:
    from vbench_lite.methods.sned.recipe import STANDALONE

    folder = _shipped(f"standalone-{STANDALONE}")
    if folder is None:
        md += ["## 2. Supernet vs standalone: the standalone model is not trained yet", ""]
        return
    arch = PRESETS[STANDALONE]
    cfg = json.loads((folder / "config.json").read_text())
    if SubnetArch.from_dict(cfg["sned"]["standalone"]["arch"]) != arch:
        md += [f"## 2. Supernet vs standalone: the shipped standalone model is not of the current `{STANDALONE}` "
               f"({arch.label()}); retrain it: `python -m vbench_lite train --method sned:standalone-{STANDALONE} --export`", ""]
        return
    sub = vbench_lite.evaluate_method(SNEDMethod(STANDALONE), split="validation", num_videos=num, metrics=("fvd", "kvd"))
    # the standalone network is built at m-32's widths without its skipped blocks (pruned): the
    # whole of it, at those widths with nothing (more) to skip, is the architecture
    whole = SubnetArch(arch.widths, (), arch.resolution)
    alone = vbench_lite.evaluate_method(SNEDMethod(arch=whole, weights=folder), split="validation", num_videos=num,
                                        metrics=("fvd", "kvd"))
    ratio = sub.metrics["fvd"].value / alone.metrics["fvd"].value
    st = cfg["sned"]["standalone"]
    rows = [("supernet subnet sned:m-32", _steps(_shipped(None)), f"{sub.metrics['fvd'].value:.1f} ± {sub.metrics['fvd'].std:.1f}",
             f"{sub.metrics['kvd'].value:.1f}"),
            ("standalone m-32", _steps(folder), f"{alone.metrics['fvd'].value:.1f} ± {alone.metrics['fvd'].std:.1f}",
             f"{alone.metrics['kvd'].value:.1f}")]
    md += [f"## 2. Supernet subnet vs the same architecture trained standalone (validation, {num} videos)", "",
           tabulate(rows, headers=("model", "optimiser steps", "FVD↓ ± std", "KVD↓"), tablefmt="github"), "",
           f"The standalone model trained {_steps(folder)} steps: the supernet steps (of its {st['supernet_steps']}) "
           f"that drew the m-32 cost bucket at 32 px; both start from the baseline's weights.",
           f"subnet FVD / standalone FVD = {ratio:.3f} (target <= 1.15: {'met' if ratio <= 1.15 else 'missed'})", ""]
    report["standalone"] = {"subnet_fvd": sub.metrics["fvd"].value, "standalone_fvd": alone.metrics["fvd"].value,
                            "subnet_kvd": sub.metrics["kvd"].value, "standalone_kvd": alone.metrics["kvd"].value,
                            "ratio": ratio, "standalone_steps": _steps(folder), "num_videos": num}


def _checkpoints(run: str) -> list[Path]:
    from vbench_lite.fsutil import cache_dir

    d = cache_dir("runs", run, "seed0")
    return sorted(p for p in d.glob("step_*") if (p / "manifest.json").is_file())


# the warm-up comparison follows fixed architectures (not the presets, which the search re-picks)
CURVE_ARCHS = {"w=16/48": SPACE.uniform(1.0, 32), "w=12/36": SPACE.uniform(0.75, 32)}
CURVE_STEPS = (200, 400, 600)


def warmup(num: int, report: dict[str, Any], md: list[str], which: tuple[str, ...] = ("warm-up", "no warm-up")) -> None:
    """KVD of the 32 px full and 0.75x-width subnets at the ``CURVE_STEPS`` checkpoints of the runs
    in ``which``; curves of the other run measured before (same runs, same video count) are kept."""
    from vbench_lite.methods.backbone.recipe import export_checkpoint
    from vbench_lite.methods.sned.recipe import run_name

    runs = {"warm-up": run_name(None), "no warm-up": run_name("no-warmup")}
    old = report.get("warmup", {})
    curves: dict[str, dict[str, float]] = old.get("curves", {}) if old.get("runs") == runs and \
        old.get("num_videos") == num else {}
    with tempfile.TemporaryDirectory() as tmp:
        for label in which:
            for ck in _checkpoints(runs[label]):
                step = int(ck.name[5:])
                if step not in CURVE_STEPS:
                    continue
                out = Path(tmp) / f"{label}-{step}"
                export_checkpoint(ck, out, seed=0, requested_steps=step, title=label, command="benchmark export",
                                  extra_config={"generation": {"frames": 16, "resolution": 32}})
                for name, arch in CURVE_ARCHS.items():
                    r = vbench_lite.evaluate_method(SNEDMethod(arch=arch, weights=out), split="validation",
                                                    num_videos=num, metrics=("kvd",))
                    curves.setdefault(f"{label} {name}", {})[str(step)] = r.metrics["kvd"].value
    if not curves:
        md += ["## 3. Warm-up vs no warm-up: no checkpoints yet", ""]
        return
    keys = sorted(curves)
    steps = sorted({int(k) for c in curves.values() for k in c})
    rows = [(step, *(f"{curves[k][str(step)]:.1f}" if str(step) in curves[k] else "" for k in keys)) for step in steps]
    md += [f"## 3. KVD (32 px) against step, with and without the sampling warm-up (validation, {num} videos)", "",
           f"Runs: `{runs['warm-up']}` and `{runs['no warm-up']}` (cache run folders), the same loss and seed.", "",
           tabulate(rows, headers=("step", *keys), tablefmt="github"), ""]
    report["warmup"] = {"num_videos": num, "runs": runs, "curves": curves}


LARGEST = "largest subnet (32px w=16/48, no skips; context)"


def floor(num: int, report: dict[str, Any], md: list[str]) -> None:
    res = {}
    methods: dict[str, Any] = {"baseline": "baseline", "sned:l-32": "sned:l-32"}
    if PRESETS["l-32"] != SPACE.uniform(1.0, 32):  # the whole supernet beside the picked l-32, for context
        methods[LARGEST] = SNEDMethod(arch=SPACE.uniform(1.0, 32))
    for name, method in methods.items():
        r = vbench_lite.evaluate_method(method, split="validation", num_videos=num, metrics=("fvd", "kvd", "vbench"))
        res[name] = {k: m.value for k, m in r.metrics.items()} | {"fvd_std": r.metrics["fvd"].std}
    b, s = res["baseline"], res["sned:l-32"]
    sem, fvd = s["vbench_semantic"] / b["vbench_semantic"], s["fvd"] / b["fvd"]
    rows = [(n, f"{v['fvd']:.1f} ± {v['fvd_std']:.1f}", f"{v['kvd']:.1f}", f"{v['vbench_quality']:.4f}",
             f"{v['vbench_semantic']:.4f}", f"{v['vbench_total']:.4f}") for n, v in res.items()]
    md += [f"## 4. Absolute floor: sned:l-32 against the baseline (validation, {num} videos)", "",
           tabulate(rows, headers=("method", "FVD↓ ± std", "KVD↓", "Quality↑", "Semantic↑", "Total↑"), tablefmt="github"),
           "", f"Semantic ratio {sem:.3f} (target >= 0.90: {'met' if sem >= 0.9 else 'missed'}); "
           f"FVD ratio {fvd:.3f} (target <= 1.20: {'met' if fvd <= 1.2 else 'missed'})", ""]
    if LARGEST in res:
        w = res[LARGEST]
        md += [f"The targets are sned:l-32's; the largest subnet (the whole supernet, not a preset since the search "
               f"picked l-32 by KVD) has Semantic ratio {w['vbench_semantic'] / b['vbench_semantic']:.3f} and FVD ratio "
               f"{w['fvd'] / b['fvd']:.3f}.", ""]
    report["floor"] = {"num_videos": num, **res, "semantic_ratio": sem, "fvd_ratio": fvd}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num-videos", type=int, default=32, help="validation videos per search candidate / checkpoint")
    ap.add_argument("--final-videos", type=int, default=64, help="validation videos of the standalone and floor rows")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--all-widths", action="store_true", help="search every width combination (33 candidates, not 21)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=("search", "standalone", "warmup", "floor"), action="append")
    ap.add_argument("--warmup-run", choices=("warm-up", "no-warm-up"), action="append",
                    help="evaluate only this run's checkpoints for part 3 (default: both)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    OUT.mkdir(exist_ok=True)
    parts = args.only or ["search", "standalone", "warmup", "floor"]
    path = OUT / "sned_pareto.json"
    report: dict[str, Any] = json.loads(path.read_text()) if path.is_file() and args.only else {}
    sections: dict[str, list[str]] = report.pop("_markdown", {})
    sup = _shipped(None)
    report["supernet"] = {"steps": _steps(sup) if sup else 0, "threads": args.threads}
    for part in parts:
        md: list[str] = []
        if part == "search":
            search(args.num_videos, args.pairs, args.threads, report, md, args.all_widths)
        elif part == "standalone":
            standalone(args.final_videos, report, md)
        elif part == "warmup":
            which = tuple(w.replace("-", " ", 1) if w == "no-warm-up" else w for w in args.warmup_run or ()) or \
                ("warm-up", "no warm-up")
            warmup(args.num_videos, report, md, which)
        else:
            floor(args.final_videos, report, md)
        sections[part] = md
        print("\n".join(md))
    head = ["# SNED: Pareto front and comparisons (benchmarks/sned_pareto.py)", "",
            f"Supernet: {report['supernet']['steps']} steps (methods/sned/weights/supernet/TRAINING.md). "
            f"Shared 2-core machine, {args.threads} threads: latencies are paired ratios measured side by side.", ""]
    body = [line for part in ("search", "standalone", "warmup", "floor") for line in sections.get(part, [])]
    (OUT / "sned_pareto.md").write_text("\n".join(head + body) + "\n")
    path.write_text(json.dumps({**report, "_markdown": sections}, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
