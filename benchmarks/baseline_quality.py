"""Does the baseline show the prompted content? Pixel analysis of generated videos on the 256
``eval`` prompts of the shapes suite (issue 3 quality bar):

- colour: foreground = pixels farther than ``--fg-threshold`` (RGB L2) from the prompted, known
  background colour; each foreground pixel is assigned its nearest palette colour; the video's
  dominant colour (single object) or two most frequent colours (two objects) must equal the prompt's.
  Target: >= 80% of videos.
- motion: the foreground centroid of the last 4 frames minus that of the first 4; its larger axis
  and sign must match the prompted direction, with at least ``--min-travel`` px of travel.
  Target: >= 70% of the moving videos.

``--real`` runs the same analysis on the suite's own rendered videos (a check of the analyser,
which should score ~100%). Usage::

    python benchmarks/baseline_quality.py [--num 256] [--method baseline] [--real] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from vbench_lite.suites.shapes import ShapesSuite, vocab

PALETTE = torch.tensor(list(vocab.COLORS.values()), dtype=torch.float32)  # [K, 3]
COLOR_NAMES = list(vocab.COLORS)


def analyse(video: torch.Tensor, attrs: dict, fg_threshold: float, min_travel: float) -> dict:
    """One uint8 video ``[T, 3, H, W]`` against its ground-truth attributes."""
    x = video.float().permute(0, 2, 3, 1)  # [T, H, W, 3]
    bg = torch.tensor(vocab.BACKGROUNDS[attrs["background"]], dtype=torch.float32)
    fg = (x - bg).norm(dim=-1) > fg_threshold  # [T, H, W]
    out: dict = {"fg_fraction": float(fg.float().mean())}
    if fg.sum() == 0:
        return {**out, "color_ok": False, "dominant": [], "direction_ok": False, "travel_px": 0.0}
    pix = x[fg]  # [N, 3]
    nearest = torch.cdist(pix, PALETTE).argmin(dim=1)
    counts = torch.bincount(nearest, minlength=len(PALETTE))
    want = {attrs["color"]} if attrs["num_objects"] == 1 else {attrs["color"], attrs["color2"]}
    top = [COLOR_NAMES[i] for i in counts.argsort(descending=True)[: len(want)].tolist()]
    out["dominant"] = top
    out["color_ok"] = set(top) == want
    # centroid track
    t, h, w = fg.shape
    ys = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32).view(1, 1, w)
    mass = fg.float().sum((1, 2))
    valid = mass > 0
    cx = (fg * xs).sum((1, 2)) / mass.clamp(min=1)
    cy = (fg * ys).sum((1, 2)) / mass.clamp(min=1)
    k = 4
    if valid[:k].sum() == 0 or valid[-k:].sum() == 0:
        return {**out, "direction_ok": False, "travel_px": 0.0}
    dx = float(cx[-k:][valid[-k:]].mean() - cx[:k][valid[:k]].mean())
    dy = float(cy[-k:][valid[-k:]].mean() - cy[:k][valid[:k]].mean())
    if abs(dx) >= abs(dy):
        measured = "right" if dx > 0 else "left"
    else:
        measured = "down" if dy > 0 else "up"
    travel = max(abs(dx), abs(dy))
    out.update(travel_px=travel, measured_direction=measured,
               direction_ok=measured == attrs["direction"] and travel >= min_travel)
    return out


def match_rates(rows: list[dict], items: list) -> dict:
    """Colour match over all videos and over single-object ones, and direction match over the moving
    ones (percentages), from the :func:`analyse` rows of ``items``."""
    moving = [r for r, it in zip(rows, items) if it.attributes["direction"] != "still"]
    single = [r for r, it in zip(rows, items) if it.attributes["num_objects"] == 1]
    return {
        "color_match_pct": 100.0 * sum(r["color_ok"] for r in rows) / len(rows),
        "color_match_single_object_pct": 100.0 * sum(r["color_ok"] for r in single) / max(1, len(single)),
        "direction_match_moving_pct": 100.0 * sum(r["direction_ok"] for r in moving) / max(1, len(moving)),
        "num_moving": len(moving),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="baseline")
    p.add_argument("--num", type=int, default=256, help="eval prompts (default: all 256)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--real", action="store_true", help="analyse the suite's real videos instead")
    p.add_argument("--fg-threshold", type=float, default=60.0)
    p.add_argument("--min-travel", type=float, default=1.0, help="minimum centroid travel in px")
    p.add_argument("--split", default="eval", choices=("eval", "validation"),
                   help="tune sampler settings on validation, report on eval")
    p.add_argument("--weights", default=None, help="baseline weights folder (default: shipped)")
    p.add_argument("--cfg-scale", type=float, default=None, help="override the shipped CFG scale")
    p.add_argument("--shift", type=float, default=None, help="override the shipped timestep shift")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    suite = ShapesSuite()
    items = suite.items(args.split, args.num)
    t0 = time.perf_counter()
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
    rows = [analyse(v, it.attributes, args.fg_threshold, args.min_travel) for v, it in zip(videos, items)]
    summary = {
        "method": "real videos" if args.real else args.method,
        "split": args.split,
        "sampler": None if args.real else str(method.generator.sampler),
        "num_videos": len(rows),
        **match_rates(rows, items),
        "targets": {"color_match_pct": 80.0, "direction_match_moving_pct": 70.0},
        "generation_s": gen_s,
        "fg_threshold": args.fg_threshold,
        "min_travel_px": args.min_travel,
    }
    summary["passed"] = (summary["color_match_pct"] >= 80.0 and summary["direction_match_moving_pct"] >= 70.0)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k}: {v:.1f}" if isinstance(v, float) else f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
