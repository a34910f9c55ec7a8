"""Time every VBench-lite dimension and CLIPSIM on 256 shapes videos (target: under 60 s in all).

    python benchmarks/vbench_speed.py [--num 256] [--batch 16] [--threads N]

Videos are the suite's reference renders (real videos; rendering is not timed). Each dimension is
timed on its own over the whole set in harness-sized micro-batches; overall consistency reuses
the frame embeddings CLIPSIM computed, as it does inside one harness run.
"""

from __future__ import annotations

import argparse
import time

import torch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from vbench_lite.metrics.clipsim import clipsim_scores
    from vbench_lite.metrics.vbench import aggregate as agg
    from vbench_lite.metrics.vbench.metric import VBenchConfig, backbones_for, score_videos
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    items = suite.items("reference", args.num)
    videos = suite.render(items)
    t0, c0 = time.perf_counter(), time.process_time()
    bb = backbones_for(VBenchConfig(), "cpu")
    dims = list(agg.DIMENSIONS)
    try:
        from vbench_lite.metrics.vbench.metric import _detector

        _detector(bb, "cpu")
    except ValueError as exc:
        print(f"object_class skipped: {exc}")
        dims.remove("object_class")
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    chunks = [(videos[i : i + args.batch], items[i : i + args.batch]) for i in range(0, args.num, args.batch)]

    rows = [("load backbones", load_s, load_cpu, None)]
    t, c = time.perf_counter(), time.process_time()
    scores = [clipsim_scores(v, [it.prompt for it in its], bb.clip) for v, its in chunks]
    rows.append(("clipsim", time.perf_counter() - t, time.process_time() - c,
                 float(torch.tensor([s.mean() for s in scores]).mean())))
    order = ["overall_consistency"] + [d for d in dims if d != "overall_consistency"]
    for d in order:
        t, c = time.perf_counter(), time.process_time()
        vals = [score_videos(v, its, bb, fps=suite.fps, dimensions=(d,))[d] for v, its in chunks]
        elapsed, cpu = time.perf_counter() - t, time.process_time() - c
        flat = torch.tensor([x for arr in vals for x in arr.tolist()], dtype=torch.float64)
        finite = flat[torch.isfinite(flat)]
        rows.append((d, elapsed, cpu, float(finite.mean()) if finite.numel() else None))
    total, total_cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"{args.num} shapes videos ({suite.resolution} px, {suite.frames} frames), batch {args.batch}, "
          f"torch threads {torch.get_num_threads()}")
    # CPU seconds of this process (all its threads): on a shared machine wall time also counts
    # other people's jobs, CPU time does not
    print(f"{'dimension':<26}{'wall s':>9}{'cpu s':>9}{'mean score':>12}")
    for name, sec, cpu, mean in rows:
        print(f"{name:<26}{sec:>9.2f}{cpu:>9.2f}{'' if mean is None else f'{mean:>12.4f}'}")
    print(f"{'total':<26}{total:>9.2f}{total_cpu:>9.2f}   (target: wall < 60 s on an idle 2-core machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
