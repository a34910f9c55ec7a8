"""VDMini block importance on the shipped baseline (issue: VDMini, step 1).

Skips every shape-preserving block of the baseline UNet in turn and measures, on a fixed set of
``validation`` videos (same prompts and seeds as the unpruned teacher), FVD and KVD (content),
dynamic_degree, motion_direction and motion_smoothness (motion), and the FLOPs and latency of one
batch-16 CFG denoiser call that the skip saves. Prints the table and the shallow-vs-deep summary
(does the paper's observation hold?), writes the table as JSON (the pruning rule's input) and
Markdown, and draws importance against cost per block.

Resumable: the JSON checkpoint is written after every block; rerun the same command to continue.

Usage:
    python benchmarks/vdmini_importance.py [--num-videos 128] [--checkpoint PATH]
        [--out methods/vdmini/importance] [--threads 1] [--render-only]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

import torch
from tabulate import tabulate

from vbench_lite.fsutil import atomic_write_json
from vbench_lite.methods.vdmini.importance import (
    CONTENT,
    MOTION,
    TEACHER,
    depth_summary,
    load_table,
    measure_block_importance,
    scores,
    unmeasured,
)

OUT = Path(__file__).resolve().parent.parent / "methods" / "vdmini" / "importance"
SHORT = {"fvd": "FVD", "kvd": "KVD", "vbench_dynamic_degree": "dyn.deg", "vbench_motion_direction": "m.dir",
         "vbench_motion_smoothness": "m.smooth"}


def render(table: dict, out: Path) -> str:
    sc = scores(table)
    teacher = table["rows"][TEACHER]
    head = ["block", "params", "FLOPs saved", "latency saved", *(SHORT[m] for m in (*CONTENT, *MOTION)),
            "content", "motion", "importance"]
    rows = [["(teacher)", table["denoiser_params"], "", "",
             *(f"{teacher['metrics'][m]:.4g}" for m in (*CONTENT, *MOTION)), "", "", ""]]
    for b, r in table["rows"].items():
        if b == TEACHER:
            continue
        rows.append([b, r["params"], f"{r['flops_saved']:.1%}", f"{r['latency_saved']:.1%}",
                     *(f"{r['metrics'][m]:.4g}" for m in (*CONTENT, *MOTION)),
                     f"{sc[b]['content']:.2f}", f"{sc[b]['motion']:.2f}", f"{sc[b]['importance']:.2f}"])
    summ = depth_summary(table)
    p = table["protocol"]
    std = teacher["metric_std"]
    lines = [
        "# VDMini block importance on the baseline",
        "",
        f"Each block skipped in turn; {p['num_videos']} `{p['split']}` videos of `{p['teacher']}` "
        f"(weights {p['weights_sha256'][:12]}), same prompts and seeds for every row. Costs: one batch-16 CFG "
        "denoiser call (32 rows); latency paired and noisy (shared 2-core machine). Teacher FVD bootstrap std "
        f"{std.get('fvd', float('nan')):.1f}, KVD {std.get('kvd', float('nan')):.1f}.",
        "",
        tabulate(rows, headers=head, tablefmt="github"),
        "",
        "content / motion: each measure's degradation (FVD, KVD up; dynamic degree changed; direction match, "
        "smoothness down) in standard errors of the teacher's value (bootstrap std for FVD/KVD, standard error "
        "of the mean for the VBench dimensions, at least 1/N), averaged over FVD+KVD and over the three motion "
        "measures; importance = their mean.",
        "",
        tabulate([[g, s["blocks"], f"{s['content']:.3f}", f"{s['motion']:.3f}", f"{s['motion_share']:.3f}"]
                  for g, s in summ.items() if g != "observation_holds"],
                 headers=["blocks", "n", "mean content", "mean motion", "motion share"], tablefmt="github"),
        "",
        *([f"Not measured yet (run interrupted; rerun the command to finish): {', '.join(unmeasured(table))}.", ""]
          if unmeasured(table) else []),
        f"Paper's observation (deep blocks carry relatively more motion than shallow ones): "
        f"{'holds' if summ['observation_holds'] else 'does not hold'} here by the motion share "
        f"(deep {summ['deep']['motion_share']:.2f} vs shallow {summ['shallow']['motion_share']:.2f}); in absolute "
        f"terms the shallow blocks' mean motion importance is {summ['shallow']['motion']:.2f} against the deep "
        f"blocks' {summ['deep']['motion']:.2f} and their mean content importance {summ['shallow']['content']:.2f} "
        f"against {summ['deep']['content']:.2f}.",
    ]
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "importance.md").write_text(text)
    plot(table, sc, out / "importance_vs_cost.png")
    return text


def plot(table: dict, sc: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    colours = {0: "tab:blue", 1: "tab:red"}
    markers = {"res": "o", "temporal": "^", "xattn": "s"}
    for ax, what in zip(axes, ("content", "motion")):
        for b, r in table["rows"].items():
            if b == TEACHER:
                continue
            ax.scatter(100 * r["flops_saved"], sc[b][what], c=colours.get(r["level"], "k"),
                       marker=markers.get(r["kind"], "x"), s=36)
            ax.annotate(b, (100 * r["flops_saved"], sc[b][what]), fontsize=6, xytext=(3, 2),
                        textcoords="offset points")
        ax.set_xlabel("denoiser FLOPs saved by skipping (%)")
        ax.set_ylabel(f"{what} importance (teacher std. errors)")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_title(f"{what}: blue = shallow level 0, red = deep level + mid")
        ax.grid(alpha=0.3)
    fig.suptitle("each block skipped alone; o ResBlock, ^ temporal layer, s cross-attention", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num-videos", type=int, default=128)
    ap.add_argument("--split", default="validation")
    ap.add_argument("--checkpoint", type=Path, default=None, help="resumable JSON (default: under the cache)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--latency-rounds", type=int, default=7)
    ap.add_argument("--render-only", action="store_true", help="re-render from OUT/importance.json")
    ap.add_argument("--snapshot", action="store_true",
                    help="copy the checkpoint as it is (an unfinished table) to OUT and render it")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    final = args.out / "importance.json"
    from vbench_lite.fsutil import cache_dir

    ckpt = args.checkpoint or cache_dir("vdmini") / f"importance-{args.split}-{args.num_videos}.json"
    if args.render_only:
        table = load_table(final)
    elif args.snapshot:
        table = json.loads(ckpt.read_text())
        table.setdefault("levels", 1 + max(int(b.split(".")[1]) for b in table["costs"] if b.startswith("down.")))
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(final, table)
    else:
        table = measure_block_importance(ckpt, split=args.split, num_videos=args.num_videos,
                                         latency_rounds=args.latency_rounds)
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ckpt, final)
    print(render(table, args.out))


if __name__ == "__main__":
    main()
