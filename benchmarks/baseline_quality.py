"""Does the baseline show the prompted content? Colour and motion direction of generated videos on
the ``eval`` prompts of the shapes suite (issue 3 quality bar), judged by the VBench-lite metric's
own rules (:mod:`vbench_lite.metrics.vbench.semantic`: connected foreground components, their
palette colour, the least-squares track of the foreground centroid), so these match rates are the
leaderboard's ``vbench_color`` and ``vbench_motion_direction``:

- colour: every prompted object's colour is among the measured objects' colours.
  Target: >= 80% of videos.
- motion: the measured direction (or stillness) is the prompted one; reported over all videos
  (= ``vbench_motion_direction``) and over the moving ones. Target: >= 70% of the moving videos.

``--real`` runs the same analysis on the suite's own rendered videos (a check of the measurement,
which should score ~100%). Usage::

    python benchmarks/baseline_quality.py [--num 256] [--method baseline] [--real] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import torch

from vbench_lite.metrics.vbench import semantic
from vbench_lite.suites.shapes import ShapesSuite


def analyse(video: torch.Tensor, attrs: dict[str, Any]) -> dict[str, Any]:
    """One uint8 video ``[T, 3, H, W]`` against its ground-truth attributes (the metric's rules)."""
    m = semantic.measure_objects(video)
    return {"colors": m.colors, "measured_direction": m.direction, "num_objects": m.num_objects,
            "color_ok": bool(semantic.color(m, attrs)), "direction_ok": bool(semantic.motion_direction(m, attrs))}


def match_rates(rows: list[dict[str, Any]], items: list[Any]) -> dict[str, Any]:
    """Colour match over all and single-object videos, direction match over all and moving ones (%)."""
    moving = [r for r, it in zip(rows, items) if it.attributes["direction"] != "still"]
    single = [r for r, it in zip(rows, items) if it.attributes["num_objects"] == 1]
    pct = lambda rs, k: 100.0 * sum(r[k] for r in rs) / max(1, len(rs))  # noqa: E731
    return {
        "color_match_pct": pct(rows, "color_ok"),
        "color_match_single_object_pct": pct(single, "color_ok"),
        "direction_match_pct": pct(rows, "direction_ok"),
        "direction_match_moving_pct": pct(moving, "direction_ok"),
        "num_moving": len(moving),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="baseline")
    p.add_argument("--num", type=int, default=256, help="eval prompts (default: all 256)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--real", action="store_true", help="analyse the suite's real videos instead")
    p.add_argument("--split", default="eval", choices=("eval", "validation"),
                   help="tune sampler settings on validation, report on eval")
    p.add_argument("--weights", default=None, help="baseline weights folder (default: shipped)")
    p.add_argument("--cfg-scale", type=float, default=None, help="override the shipped CFG scale")
    p.add_argument("--shift", type=float, default=None, help="resample the shipped steps with this timestep shift")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    suite = ShapesSuite()
    items = suite.items(args.split, args.num)
    t0 = time.perf_counter()
    sampler = None
    if args.real:
        videos = suite.render(items)
    else:
        from dataclasses import replace

        from vbench_lite import load_method
        from vbench_lite.spec import GenerationSpec

        if args.weights:
            from vbench_lite.methods.baseline import BaselineMethod

            method = BaselineMethod(weights=args.weights)
        else:
            method = load_method(args.method)
        method.load("cpu")
        sampler = method.generator.sampler
        if args.cfg_scale is not None:
            sampler = replace(sampler, cfg_scale=args.cfg_scale)
        if args.shift is not None:
            sampler = sampler.set_timesteps(sampler.steps, shift=args.shift)
        method.generator.sampler = sampler
        chunks = []
        for i in range(0, len(items), args.batch):
            part = items[i : i + args.batch]
            chunks.append(method.generate([it.prompt for it in part], [it.seed for it in part], GenerationSpec()))
            print(f"generated {i + len(part)}/{len(items)}", file=sys.stderr)
        videos = torch.cat(chunks)
    gen_s = time.perf_counter() - t0
    rows = [analyse(v, it.attributes) for v, it in zip(videos, items)]
    summary: dict[str, Any] = {
        "method": "real videos" if args.real else args.method,
        "split": args.split,
        "sampler": None if sampler is None else sampler.to_config(),
        "num_videos": len(rows),
        **match_rates(rows, items),
        "targets": {"color_match_pct": 80.0, "direction_match_moving_pct": 70.0},
        "generation_s": gen_s,
    }
    summary["passed"] = summary["color_match_pct"] >= 80.0 and summary["direction_match_moving_pct"] >= 70.0
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k}: {v:.1f}" if isinstance(v, float) else f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
