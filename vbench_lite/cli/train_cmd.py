"""``vbench-lite train --method NAME | --detector NAME | --autoencoder``: train a method, a
shapes-domain feature detector or the shared frame autoencoder.

Long runs checkpoint periodically and resume where they stopped when the same command is run
again. A method exposes training through an optional ``train(steps=, seed=, out=, ...)``
static/class method on its adapter class (DESIGN.md: "optional ``train(...)``").
"""

from __future__ import annotations

import argparse
import json
import logging

from vbench_lite.cli import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train a method, a detector or the frame autoencoder")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--method", metavar="NAME", help="train method NAME (its adapter's train())")
    what.add_argument("--detector", metavar="NAME", help="train the shapes-domain detector NAME")
    what.add_argument("--autoencoder", action="store_true", help="train the shared frame autoencoder")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--out", default=None, help="where to write the final weights (default: shipped location)")
    p.add_argument("--run-dir", default=None, help="folder of periodic checkpoints (default: in the cache)")
    p.add_argument("--time-budget", type=float, default=None, metavar="MINUTES",
                   help="stop with a checkpoint after this many minutes; rerun to resume")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def main(args: argparse.Namespace) -> int:
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    logging.getLogger("vbench_lite").setLevel(logging.INFO)
    budget_s = args.time_budget * 60 if args.time_budget else None
    kwargs = {"seed": args.seed, "out": args.out}
    if args.steps is not None:
        kwargs["steps"] = args.steps
    if args.detector:
        from vbench_lite.metrics.detectors.training import train_detector

        summary = train_detector(args.detector, **kwargs)
    elif args.autoencoder:
        from vbench_lite.methods.backbone.autoencoder_train import train_autoencoder

        summary = train_autoencoder(run_dir=args.run_dir, time_budget_s=budget_s, **kwargs)
    else:
        from vbench_lite.registries import METHODS
        from vbench_lite.registry import split_name

        name, variant = split_name(args.method)
        cls = METHODS.get(name)
        train = getattr(cls, "train", None)
        if train is None:
            raise UsageError(f"method {name!r} has no train(); it ships no trainable recipe")
        if variant is not None:
            kwargs["variant"] = variant
        summary = train(run_dir=args.run_dir, time_budget_s=budget_s, **kwargs)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        for k, v in (summary or {}).items():
            print(f"{k}: {v}")
    return 0
