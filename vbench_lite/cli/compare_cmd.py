"""``vbench-lite compare --method M --reference baseline``: the paired speedup of one method over another.

Both generate the same batch of prompts and seeds (the first videos of a suite split), timed in
alternating pairs in this process after their warm-ups; prints the speedup as a ratio of medians
with a bootstrap 95% interval, wall and CPU time, threads, load and whether the measurement was
stable, and writes ``<out>/compare/<method>/vs-<reference>-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

from vbench_lite.cli import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from vbench_lite.spec import DEFAULT_REFERENCE_METHOD, GenerationSpec

    gen = GenerationSpec()
    p = sub.add_parser(
        "compare", help="paired speedup of a method over a reference, with a 95%% interval",
        description="Time a method and a reference interleaved in one process (A B, B A, ... after "
        "warm-up) on the same prompts and seeds; speedup = median reference time / median method time, "
        "with a paired-bootstrap 95%% interval; load and CPU/wall time mark an unstable measurement.",
    )
    p.add_argument("--method", required=True, metavar="NAME[:VARIANT]", help="registered method (see `list methods`)")
    p.add_argument("--reference-method", "--reference", dest="reference", default=DEFAULT_REFERENCE_METHOD,
                   metavar="NAME[:VARIANT]",
                   help=f"the method it is compared with (default: {DEFAULT_REFERENCE_METHOD}; --reference is the older name)")
    p.add_argument("--suite", default="shapes")
    p.add_argument("--split", default="validation", choices=("eval", "validation"),
                   help="prompts and seeds from this split (default: validation)")
    p.add_argument("--batch-size", type=int, default=16, help="videos per call, the first of the split (default 16)")
    p.add_argument("--pairs", type=int, default=5, help="timed pairs, at least 2 (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls of each before the pairs (default 1)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's setting)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--frames", type=int, default=gen.frames, help=f"frames per video (default {gen.frames})")
    p.add_argument("--resolution", type=int, default=gen.resolution, help=f"frame size (default {gen.resolution})")
    p.add_argument("--out", default="runs", type=Path, help="results root folder (default: runs)")
    p.add_argument("--json", action="store_true", help="print the record as JSON instead of a table")
    return p


def main(args: argparse.Namespace) -> int:
    import vbench_lite
    from vbench_lite.fsutil import atomic_write_json
    from vbench_lite.profile.method_profile import compare_methods
    from vbench_lite.spec import GenerationSpec, RunSpec

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.pairs < 2:
        raise UsageError(f"--pairs must be at least 2 to give an interval, got {args.pairs}")
    if args.warmup < 0:
        raise UsageError(f"--warmup must be 0 or more, got {args.warmup}")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")
    from vbench_lite.profile.latency import check_device

    run = RunSpec.for_method(args.method, device=args.device)  # validates name syntax and device
    ref = RunSpec.for_method(args.reference, device=args.device)
    check_device(run.device)  # CUDA asked for but absent: refused before any model is loaded
    if run.method_id == ref.method_id:
        raise UsageError(f"--method and --reference are both {run.method_id!r}; compare two different methods")
    gen_spec = GenerationSpec(frames=args.frames, resolution=args.resolution)
    adapter = vbench_lite.load_method(run.method_id)  # unknown names: did-you-mean, before any work
    reference = vbench_lite.load_method(ref.method_id)
    items = vbench_lite.load_suite(args.suite).items(args.split, args.batch_size, 0)
    adapter.load(run.device)
    reference.load(run.device)
    record = compare_methods(
        adapter, reference, gen_spec, [it.prompt for it in items], [it.seed for it in items],
        pairs=args.pairs, warmup=args.warmup, device=run.device, threads=args.threads, progress=not args.json,
    )
    record["prompts"] = {"suite": args.suite, "split": args.split, "count": len(items)}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = args.out / "compare" / run.method_id / f"vs-{ref.method_id}-{stamp}.json"
    atomic_write_json(path, record)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(render(record))
        print(f"\nwritten: {path}")
    return 0


def speedup_text(rec: dict[str, Any], key: str = "speedup", interval: str = "interval") -> str:
    """``1.52× [1.47, 1.58]``, with ``(unstable)`` when the measurement was flagged."""
    lo, hi = rec[interval]
    text = f"{rec[key]:.2f}× [{lo:.2f}, {hi:.2f}]"
    return text + " (unstable)" if rec.get("unstable") else text


def _load(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def render(rec: dict[str, Any]) -> str:
    """The human-readable summary of a paired record."""
    per = rec["per"]
    arms = (rec["method_runs"], rec["reference_runs"])
    rows = [(a["name"], f"{a['median_s'] / per:.4f}", f"{a['cpu_median_s'] / per:.4f}",
             f"{a['cpu_median_s'] / a['median_s']:.2f}",
             "–" if a["wait_fraction"] is None else f"{100 * a['wait_fraction']:.1f}%") for a in arms]
    out = (f"{rec['method']} vs {rec['reference']}: {rec['pairs']} interleaved pairs ({'/'.join(rec['order'])}) "
           f"after {rec['warmup']} warm-up call(s) each, {per} videos per call, {rec['threads']} thread(s) on "
           f"{rec['device']} ({rec['cores']} usable cores)\n")
    out += tabulate(rows, headers=("method", "wall s/video", "CPU s/video", "CPU/wall", "run-queue wait"),
                    disable_numparse=True)
    during = [x for x in rec["load_during"] if x is not None]
    summary = [
        ("speedup (wall, ratio of medians)", speedup_text({**rec, "unstable": False})),
        ("speedup (process CPU time)", speedup_text({**rec, "unstable": False}, "cpu_speedup", "cpu_interval")),
        ("load average (1 min)", f"before {_load(rec['load_before'])}, max during "
         f"{_load(max(during) if during else None)}, after {_load(rec['load_after'])}"),
        ("measurement", "UNSTABLE: " + "; ".join(rec["unstable_reasons"]) if rec["unstable"] else "stable"),
    ]
    return out + "\n\n" + tabulate(summary, tablefmt="plain", disable_numparse=True)
