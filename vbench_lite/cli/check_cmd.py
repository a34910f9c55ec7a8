"""``vbench-lite check --results R --baseline B``: regression check for CI.

Exit codes: 0 pass, 1 regression, 2 not comparable (other suite, split, video count, generation
settings, metric protocol, or latency setting with ``--latency require``) or bad input. The policy
is documented in :mod:`vbench_lite.leaderboard.check`.
"""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "check",
        help="compare a run with a reference run; exit 1 on a regression, 2 when not comparable",
        description=(
            "A metric regresses when it is worse than the baseline by more than --rel x |baseline| AND by "
            "more than the absolute threshold (default: twice the larger bootstrap std where the metric has "
            "one, else 0). Parameters, NFE and FLOPs must match exactly. Latency is compared only when device, "
            "hardware and thread count match. Exit 0 pass, 1 regression, 2 not comparable."
        ),
    )
    p.add_argument("--results", required=True, help="results.json, a run folder, or a results folder (latest run)")
    p.add_argument("--baseline", required=True, help="the reference: results.json, run folder or results folder")
    p.add_argument("--method", default=None,
                   help="method id to pick when a folder holds several methods (applies to both sides)")
    p.add_argument("--rel", type=float, default=0.05, help="relative threshold (default: 0.05)")
    p.add_argument("--abs", action="append", default=None, metavar="NAME=VALUE",
                   help="absolute threshold of a metric, e.g. --abs fvd=5,clipsim=0.002 (latency: latency_s=...)")
    p.add_argument("--metrics", default=None,
                   help="comma-separated metrics to check (default: every metric of the baseline)")
    p.add_argument("--latency", choices=("auto", "require", "skip"), default="auto",
                   help="auto: compare latency when device and threads match, else skip; require: a mismatch "
                        "is not comparable (exit 2); skip: never compare latency")
    p.add_argument("--no-cost", action="store_true", help="do not check parameters, NFE and FLOPs")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of Markdown")
    return p


def main(args: argparse.Namespace) -> int:
    from vbench_lite.leaderboard.check import compare, parse_abs
    from vbench_lite.leaderboard.collect import resolve_run

    result = resolve_run(args.results, method=args.method)
    baseline = resolve_run(args.baseline, method=args.method)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics is not None else None
    report = compare(
        result.result,
        baseline.result,
        rel=args.rel,
        abs_thresholds=parse_abs(args.abs),
        metrics=metrics,
        latency=args.latency,
        check_cost=not args.no_cost,
    )
    if args.json:
        data = report.to_dict()
        data["results_path"], data["baseline_path"] = str(result.path), str(baseline.path)
        print(json.dumps(data, indent=2))
    else:
        print(f"results:  {result.path}")
        print(f"baseline: {baseline.path}")
        print()
        print(report.to_markdown(), end="")
    return report.exit_code
