"""``vbench-lite train --method NAME | --detector NAME | --autoencoder``: train a method, a
shapes-domain feature detector or the shared frame autoencoder.

Long runs checkpoint periodically and resume where they stopped when the same command is run
again. The trained weights go to a new run folder ``runs/train/<name>/<run_id>/`` (or ``--out``);
only ``--export`` replaces the weights shipped in the package, so a test run of two steps can never
overwrite them (issue 21). A method exposes training through an optional ``train(steps=, seed=, out=, ...)``
static/class method on its adapter class (DESIGN.md: "optional ``train(...)``").
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
from collections.abc import Callable

from vbench_lite.cli import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train a method, a detector or the frame autoencoder")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--method", metavar="NAME", help="train method NAME (its adapter's train())")
    what.add_argument("--detector", metavar="NAME", help="train the shapes-domain detector NAME")
    what.add_argument("--autoencoder", action="store_true", help="train the shared frame autoencoder")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    dest = p.add_mutually_exclusive_group()
    dest.add_argument("--out", default=None,
                      help="folder the trained weights go to (default: a new runs/train/<name>/<run_id>/)")
    dest.add_argument("--export", action="store_true",
                      help="replace the weights shipped in the installed package with the trained ones "
                           "(maintainers; the explicit step that changes what every later run uses)")
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
    what = args.method or args.detector or "autoencoder"
    train = _trainer(args, budget_s)
    folder = None
    if args.export:
        out = None  # the trainers' default: the shipped location
        logging.getLogger(__name__).warning("--export: the trained weights replace the shipped %s weights", what)
    elif args.out:
        out = args.out
    else:  # never the shipped weights unless asked (issue 21): a fresh run folder
        from vbench_lite.run_folder import RunFolder
        from vbench_lite.spec import canonical_json, sha256_text

        folder = RunFolder("runs", "train", what, sha256_text(canonical_json([what, args.steps, args.seed])))
        out = str(folder.staging)
    kwargs = {"seed": args.seed, "out": out}
    if args.steps is not None:
        kwargs["steps"] = args.steps
    try:
        summary = train(**kwargs)
    except BaseException:
        if folder is not None:
            folder.discard()
        raise
    if folder is not None:
        final = folder.publish()
        summary = {k: (v.replace(out, str(final)) if isinstance(v, str) else v) for k, v in (summary or {}).items()}
        summary["exported"] = (f"no; the shipped weights are unchanged (replace them with `vbench-lite train "
                               f"{_what_args(args)} --export`)")
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        for k, v in (summary or {}).items():
            print(f"{k}: {v}")
    return 0


def _what_args(args: argparse.Namespace) -> str:
    if args.method:
        return f"--method {args.method}" + (f" --steps {args.steps}" if args.steps else "")
    if args.detector:
        return f"--detector {args.detector}" + (f" --steps {args.steps}" if args.steps else "")
    return "--autoencoder" + (f" --steps {args.steps}" if args.steps else "")


def _trainer(args: argparse.Namespace, budget_s: float | None) -> Callable[..., dict]:
    """The training function for the command line (names checked before any folder is made)."""
    if args.detector:
        from vbench_lite.metrics.detectors.training import train_detector

        return functools.partial(train_detector, args.detector)
    if args.autoencoder:
        from vbench_lite.methods.backbone.autoencoder_train import train_autoencoder

        return functools.partial(train_autoencoder, run_dir=args.run_dir, time_budget_s=budget_s)
    from vbench_lite.registries import METHODS
    from vbench_lite.registry import split_name

    name, variant = split_name(args.method)
    cls = METHODS.get(name)
    train = getattr(cls, "train", None)
    if train is None:
        raise UsageError(f"method {name!r} has no train(); it ships no trainable recipe")
    if variant is not None:
        return functools.partial(train, run_dir=args.run_dir, time_budget_s=budget_s, variant=variant)
    return functools.partial(train, run_dir=args.run_dir, time_budget_s=budget_s)
