"""``vbench-lite evaluate --videos DIR [--prompts FILE]``: score a folder of existing videos."""

from __future__ import annotations

import argparse
import json

from tabulate import tabulate

from vbench_lite.cli.metric_options import add_metric_options, metric_configs_from_args
from vbench_lite.cli.run_cmd import parse_metrics, summary_rows


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "evaluate",
        help="score a folder of existing videos",
        description="Compute every metric the inputs allow on a folder of videos made elsewhere. "
        "Prompts come from --prompts (JSON: file name -> prompt) or from file names in VBench's "
        "'PROMPT-N.mp4' form; other names need --prompts for the metrics that read prompts. A metric "
        "the clips cannot support (too few frames) is skipped with the reason in results.json.",
    )
    p.add_argument("--videos", required=True, help="folder of .mp4/.gif/.webm/.avi/.mkv/.mov videos")
    p.add_argument("--prompts", default=None, help="JSON file mapping file name to prompt")
    p.add_argument("--suite", default="shapes", help="suite whose reference set FVD/KVD compare against ('none' to skip)")
    p.add_argument("--metrics", default=None, help="comma-separated metric names (default: all the inputs allow)")
    p.add_argument("--frames", type=int, default=None, metavar="N",
                   help="take N frames of each clip (default: every frame; FVD's detectors need 16)")
    p.add_argument("--frame-sampling", default=None, metavar="first|middle|stride:K",
                   help="with --frames: the first N consecutive frames (StyleGAN-V's FVD, the default), N frames "
                        "from the middles of N equal segments (VBench), or every K-th frame from the first")
    p.add_argument("--name", default="external", help="row name in the results (default: external)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="runs", help="results root folder (default: ./runs)")
    add_metric_options(p)
    p.add_argument("--json", action="store_true")
    return p


def main(args: argparse.Namespace) -> int:
    from vbench_lite.cli import require_device
    from vbench_lite.pipeline.external import evaluate_folder

    require_device(args.device)
    out = evaluate_folder(
        args.videos, prompts_file=args.prompts, metrics=parse_metrics(args.metrics) or None,
        suite=None if args.suite == "none" else args.suite, name=args.name, out=args.out,
        device=args.device, metric_configs=metric_configs_from_args(args), progress=not args.json,
        frames=args.frames, frame_sampling=args.frame_sampling,
    )
    if args.json:
        print(json.dumps(out.result.to_dict(), indent=2))
        return 0
    print(f"{out.result.num_videos} videos from {args.videos}")
    print(tabulate(summary_rows(out.result), headers=("metric", "value", "better")))
    for name, reason in out.result.skipped.items():
        print(f"skipped {name}: {reason}")
    print(f"results: {out.run_dir}")
    return 0
