"""Does giving the denoiser a text x time x position pathway make it follow direction words?

Issue 3's baseline before ``layout`` (``control``, 2737 steps) moved objects in the prompted
direction for only 29% of moving videos (chance 25%), and its held-out loss did not change when the
direction words were swapped (``research/caption_sensitivity.py``), although the direction
explains about 12% of the high-noise residual variance of the training latents given the rest of
the caption. That UNet (``UNetConfig(layout=False)``) can only combine "direction word", "frame index" and
"absolute position" indirectly: FiLM sees the pooled caption once per video, frame indices enter
only the temporal attention, and absolute position only through zero padding.

This script trains, side by side from the same seed, data and recipe, for the same number of steps:

- ``control``: the baseline UNet before ``layout`` (``UNetConfig(layout=False)``);
- ``motion-cond``: the same UNet with ``coord_input`` (x/y coordinate channels at the input) and
  ``frame_film`` (per-frame FiLM from the pooled caption and the frame index), +6% parameters
  (these two options were removed from the backbone in issue 14; the ``motion-cond`` arms run only
  at commit 4ac6223 or earlier);
- ``motion-cond-hi-t``: ``motion-cond`` trained with flow-matching times shifted to high noise;
- ``control-hi-t``: the control UNet with that timestep shift alone;
- ``layout-hi-t``: the shipped baseline's UNet (``UNetConfig()``, with ``layout``) and that shift;

then prints for each: the held-out loss change when the direction / colour / shape words are
swapped (at high and middle noise), and the colour and direction match of generated ``eval`` videos
(the VBench-lite rules of ``benchmarks/baseline_quality.py``; the table below was measured with
its earlier pixel analysis), and the same for the moving prompts
regenerated from the same seeds with their direction words swapped. Usage::

    python research/direction_conditioning.py [--steps 800] [--num-videos 128] [--only motion-cond]

Measured 2026-11-29 (``--steps 3000``, seed 0, 128 eval prompts of which 111 move, idle 2-core
machine at ~145 clips/s, about 13 min of training per arm):

| arm | sign swap loss t=0.95 / 0.3-0.9 | axis swap | colour swap | direction match | swapped words: follow swapped / original |
|---|---|---|---|---|---|
| control | -0.05% / -0.01% | +0.08% / +0.44% | +18.8% / +114.5% | 27.9% | 22.5% / 26.1% |
| motion-cond | +0.01% / -0.03% | +0.04% / +0.08% | +19.4% / +127.1% | 32.4% | 22.5% / 33.3% |
| motion-cond-hi-t | -0.03% / -0.06% | +4.83% / +10.83% | +25.1% / +152.1% | 40.5% | 49.5% / 39.6% |
| control-hi-t | -0.02% / -0.07% | +3.23% / +7.38% | +24.8% / +143.0% | 45.9% | 39.6% / 45.0% |
| control-hi-t, ``--steps 6000`` | -0.06% / -0.10% | +13.06% / +47.22% | +33.3% / +216.2% | 51.4% | 45.9% / 52.3% |
| control-hi-t-lr3 (lr 3e-3; measured 2026-11-29, 4.2 steps/s on 2 threads) | -0.04% / -0.00% | +2.34% / +3.81% | +25.2% / +192.7% | 44.1% | 28.8% / 42.3% |
| layout-hi-t (``UNetConfig()``; 1 thread, shared machine) | +2.07% / +1.35% | +7.71% / +10.72% | +30.0% / +149.2% | 53.2% | 50.5% / 31.5% |
| layout-hi-t, ``--steps 6000`` (the shipped baseline since 2026-11-29) | +35.19% / +37.00% | +31.00% / +67.35% | +53.8% / +263.5% | 99.1% | 99.1% / 0.0% |

No arm before ``layout-hi-t`` uses the *sign* of the direction (left vs right): swapping the words
changes neither the loss nor where the generated object goes. ``motion-cond-hi-t`` has learned the *axis* (loss +4.8%
/ +10.8% when left/right is replaced by up/down; 89% of its sign-swapped videos move along the
prompted axis, against ~49% for the control); the timestep shift alone (``control-hi-t``) gets most
of that (+3.2% / +7.4%, 85% on axis); at 6000 steps it is on the prompted axis for ~98% of videos and
still ignores the sign. Tripling the learning rate (``control-hi-t-lr3``), which shortened the
position-prior plateau in ``research/direction_plateau.py``, changed nothing at 3000 steps: its
high-noise mean prediction is still a centred track (``--probe``), and the sign is still ignored.

``layout-hi-t`` adds ``UNetConfig.layout``: a zero-initialised linear readout of random features of
(timestep + pooled caption, frame index, x/y position), added at every level's entry, +4% parameters.
It is the first arm that uses the sign. At 3000 steps the sign has started to matter (+2.1% loss
when swapped, and the ``--probe`` track leaves the centre for "left"). At 6000 steps, with the same
recipe as ``control-hi-t --steps 6000`` (51.4%), it follows the swapped words in 99% of videos.
Its high-noise mean prediction is the data's track (``--probe`` at step 4600: left 22.3 -> 9.2,
right 8.9 -> 22.5 px, up y 23.3 -> 9.1; data 24.4 -> 7.6). Its 6000-step run resumed the
3000-step one; the learning rate is constant after warm-up and each batch is a function of
(seed, step), so that should reproduce an uninterrupted run (not re-run to check).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from baseline_quality import analyse, match_rates
from caption_sensitivity import SWAPS, mean_over, sensitivity, swap

from vbench_lite.fsutil import cache_dir
from vbench_lite.methods.backbone.unet import UNetConfig

CONTROL = UNetConfig(layout=False)  # the baseline before layout
# arm -> (UNet, flow recipe overrides); "hi-t" draws training times from a logit-normal centred at
# t = 0.73 (mean 1.0) instead of 0.5, i.e. more steps at the high noise where the caption decides layout.
# (The motion-cond arms of the table need coord_input / frame_film, removed in issue 14.)
ARMS: dict[str, tuple[UNetConfig, dict[str, float]]] = {
    "control": (CONTROL, {}),
    "control-hi-t": (CONTROL, {"t_mean": 1.0}),
    # 3x the learning rate: shortened the position-prior plateau in research/direction_plateau.py
    "control-hi-t-lr3": (CONTROL, {"t_mean": 1.0, "lr": 3e-3}),
    # the text-conditioned space-time field (UNetConfig.layout) at every level's entry: the shipped UNet
    "layout-hi-t": (UNetConfig(), {"t_mean": 1.0}),
}


def train_arm(name: str, steps: int, seed: int) -> Path:
    from dataclasses import replace

    from vbench_lite.methods.backbone.recipe import RECIPE
    from vbench_lite.methods.baseline.recipe import train_baseline

    unet, overrides = ARMS[name]
    root = cache_dir("experiments", "direction_conditioning", f"{name}-steps{steps}-seed{seed}")
    out = root / "weights"
    if not (out / "manifest.json").is_file():  # resumable: rerun continues from the last checkpoint
        train_baseline(steps=steps, seed=seed, out=out, run_dir=root / "run", unet=unet,
                       recipe=replace(RECIPE, **overrides), checkpoint_every=100)
    return out


def prompt_following(weights: Path, num: int) -> dict[str, float]:
    from vbench_lite.methods.baseline import BaselineMethod
    from vbench_lite.spec import GenerationSpec
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    items = suite.items("eval", num)
    method = BaselineMethod(weights=weights)
    method.load("cpu")
    seeds = [it.seed for it in items]
    videos = method.generate([it.prompt for it in items], seeds, GenerationSpec())
    rows = [analyse(v, it.attributes) for v, it in zip(videos, items)]
    moving = [i for i, it in enumerate(items) if it.attributes["direction"] != "still"]
    # The same moving prompts and seeds with the direction words swapped: a model that uses the word
    # follows the swapped direction; one that ignores it still moves the way the seed decides.
    swapped = method.generate([swap(items[i].prompt, "direction") for i in moving],
                              [seeds[i] for i in moving], GenerationSpec())
    follows_original = sum(analyse(v, items[i].attributes)["direction_ok"]
                           for v, i in zip(swapped, moving))
    follows_swapped = sum(
        analyse(v, dict(items[i].attributes, direction=SWAPS["direction"][items[i].attributes["direction"]]))[
            "direction_ok"] for v, i in zip(swapped, moving))
    n = max(1, len(moving))
    rates = match_rates(rows, items)
    return {"color_match_pct": rates["color_match_pct"],
            "direction_match_moving_pct": rates["direction_match_moving_pct"],
            "num_moving": rates["num_moving"],
            "swapped_words_follow_swapped_pct": 100.0 * follows_swapped / n,
            "swapped_words_follow_original_pct": 100.0 * follows_original / n,
            "swapped_words_mean_abs_pixel_change": float(
                (videos[moving].float() - swapped.float()).abs().mean()) if moving else 0.0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-videos", type=int, default=128, help="eval prompts generated per arm")
    p.add_argument("--num-clips", type=int, default=256, help="held-out clips for the swap losses")
    p.add_argument("--only", choices=tuple(ARMS), action="append", help="run only this arm (repeatable)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    report: dict[str, dict] = {}
    for name in args.only or list(ARMS):
        t0 = time.perf_counter()
        weights = train_arm(name, args.steps, args.seed)
        row: dict = {"train_or_cache_s": round(time.perf_counter() - t0, 1)}
        groups = {"high noise t=0.95": (0.95,), "t in 0.3..0.9": (0.3, 0.5, 0.7, 0.9)}
        res, _ = sensitivity(str(weights), args.num_clips, tuple(t for ts in groups.values() for t in ts))
        for label, ts in groups.items():
            base = mean_over(res["true caption"], ts)
            row[label] = {k.replace(" swapped", ""): round(100 * (mean_over(res[k], ts) / base - 1), 2)
                          for k in ("direction swapped", "axis swapped", "colour swapped", "shape swapped",
                                    "empty caption")}
            row[label]["true caption loss"] = round(base, 5)
        row["prompt following"] = prompt_following(weights, args.num_videos)
        report[name] = row
        print(f"{name}: {json.dumps(row)}", file=sys.stderr)
    if args.json:
        print(json.dumps({"steps": args.steps, "seed": args.seed, "arms": report}, indent=2))
    else:
        print(f"steps {args.steps}, seed {args.seed}; loss change (%) when a caption part is swapped")
        for name, row in report.items():
            print(f"\n{name}")
            for label in ("high noise t=0.95", "t in 0.3..0.9"):
                print(f"  {label:18s} " + "  ".join(f"{k} {v:+.2f}" if k != "true caption loss" else
                                                   f"{k} {v:.5f}" for k, v in row[label].items()))
            pf = row["prompt following"]
            print(f"  eval videos: colour match {pf['color_match_pct']:.1f}%, direction match "
                  f"{pf['direction_match_moving_pct']:.1f}% of {pf['num_moving']} moving")
            print(f"  direction words swapped (same seeds): follow the swapped direction "
                  f"{pf['swapped_words_follow_swapped_pct']:.1f}%, still the original "
                  f"{pf['swapped_words_follow_original_pct']:.1f}%, mean |pixel change| "
                  f"{pf['swapped_words_mean_abs_pixel_change']:.2f} of 255")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
