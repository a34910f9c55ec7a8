"""Why does the baseline ignore the sign of the prompted direction? A few-minute diagnostic.

At high noise the best prediction of a video is its mean given the caption, and for the shapes suite
that mean tells the direction sign plainly: an object "moving right quickly" starts at x = 7.6 +- 1.0
px and ends at 24.4 px (start positions keep it in frame), "moving left quickly" the reverse. So a
denoiser that learned the high-noise conditional mean would start its samples on the correct side.

``--probe WEIGHTS`` decodes the mean x0 prediction at t = 0.99 (64 noise draws) for "a red circle
moving left / right / up quickly on a black background" and prints the horizontal centroid of its
red mass in the first and last frame: the real data mean gives about 7.8 -> 23.6 px for "right".

Without ``--probe`` it trains a fresh UNet (``UNetConfig(layout=False)``, the baseline before ``layout``) for
``--steps`` steps at one fixed flow time t = 0.97 on a small motion subset of the ``train``
latents (single objects moving fast; ``--groups`` picks the directions, ``--backgrounds
black|all``), and prints every 100 steps the centroid track (along each direction's axis, first
-> last frame) of the mean prediction for one caption per direction. The data's own mean tracks are printed first.

Measured 2026-11-29 (1 thread, about 0.42 s per step, seed 0):

- ``--probe`` on the pre-``layout`` shipped baseline (2737 steps): left 14.7 -> 15.4, right 14.9 ->
  15.1, up 14.7 -> 15.6 px.
  The same probe on every ``direction_conditioning.py`` arm (control-hi-t at 6000 steps and
  motion-cond-hi-t included) gives centred tracks (x 14-17 px at both ends): none has learned the
  direction-dependent position prior.
- default (``--groups left,right``, black, 313 clips; data mean left 22.2 -> 8.6, right 8.3 -> 22.2):
  centred until step 400 (left 15.0 -> 15.1, right 14.4 -> 15.0), then at step 500 left
  20.0 -> 9.9, right 7.4 -> 21.5: a plateau, then the symmetry breaks.
- ``--groups right`` alone: the track appears by step 300. ``--cross-attention-all``: the same
  plateau as the default (broken by step 500).
- ``--groups left,right,up,down`` (577 clips): broken by step 600 (left 19.9 -> 9.2, right 9.0 ->
  21.1, up 21.6 -> 10.0, down 10.7 -> 21.8).
- ``--backgrounds all`` (877 clips on 4 backgrounds): still centred at step 1000 (left 15.7 -> 15.8,
  right 15.4 -> 15.3). With ``--lr 3e-3`` (3x the baseline recipe) the same set breaks by step 700
  (left 19.6 -> 10.0, right 11.1 -> 19.9; step 1000: 19.6 -> 10.9 / 10.6 -> 19.5).

So the UNet and text encoder can represent and learn the direction-dependent prior, but learning it
has a plateau that grows with the other factors of variation (backgrounds most of all). Full
training mixes every factor and every t; 1900 steps at high t only (t ~ logit-normal(3, 0.5)) on
all 6144 clips, and 6000 steps of the hi-t recipe, stayed on the plateau.

Measured 2026-11-29, second round (``--widths``, ``--layout``, ``--freeze-text``; two runs at a time):

- ``--groups right --backgrounds all``: the track appears by step 400 (right 10.9 -> 19.8). So on
  all backgrounds the position prior itself takes ~400 steps, and choosing it by the word costs
  more than 600 further steps with the plain UNet.
- ``--layout`` (``UNetConfig.layout``: a zero-initialised linear readout of random features of
  (timestep + pooled caption, frame index, x/y position), added at every level's entry):
  default set broken by step 400 (left 20.6 -> 8.4, right 9.7 -> 20.1) instead of 500;
  ``--backgrounds all`` broken by step 700 (left 19.7 -> 13.2, right 10.3 -> 20.8) instead of
  >1000; with ``--lr 3e-3`` by step 500 (left 18.1 -> 12.0, right 10.6 -> 20.3).
- ``--freeze-text`` (caption encoder kept at its random init), ``--backgrounds all``: still centred
  at step 1000; with ``--layout`` broken at step 800. Not the bottleneck on this subset, although
  full training does merge the two words: the distance between the "left" and "right" token
  features (same caption otherwise) falls from 10.9 at init to 6.1 in the old shipped baseline and
  3.4 in control-hi-t at 6000 steps, while "red" vs "blue" stays at 10-11.

In full training ``layout`` with the hi-t recipe is the first arm whose high-noise mean prediction
leaves the centred track (``research/direction_conditioning.py``, arm ``layout-hi-t``).

Usage::

    python research/direction_plateau.py [--groups left,right] [--steps 500] [--cross-attention-all]
        [--backgrounds black|all] [--lr 1e-3] [--layout] [--freeze-text] [--widths 16,48]
    python research/direction_plateau.py --probe methods/baseline/weights
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F

from vbench_lite.methods.backbone.unet import UNetConfig

CAPTION = "a red circle moving {} quickly on a black background"
AXIS = {"left": "x", "right": "x", "up": "y", "down": "y"}  # the image axis each direction moves along
T_TRAIN = 0.97  # the one flow time the plateau experiment trains and probes at


def track(mass: torch.Tensor, axis: str) -> tuple[float, float]:
    """Centroid (px) of ``mass`` ``[T, H, W]`` along ``axis`` ("x" or "y") in the first and last frame."""
    per_line = mass.sum(1) if axis == "x" else mass.sum(2)  # [T, W] or [T, H]
    pos = torch.arange(per_line.shape[-1], dtype=torch.float32)
    c = (per_line * pos).sum(-1) / per_line.sum(-1).clamp(min=1e-6)
    return float(c[0]), float(c[-1])


def red_track(autoencoder, z: torch.Tensor) -> tuple[float, float]:
    """Horizontal centroid (px) of the red mass in the first and last frame of latent video ``z``."""
    vid = autoencoder.decode_video(z)[0].float()  # [T, 3, H, W]
    return track((vid[:, 0] - vid[:, 1]).clamp(min=0), "x")


def mean_prediction(model, ids: torch.Tensor, t: float, shape: tuple[int, ...], n: int = 64) -> torch.Tensor:
    """Mean over ``n`` fixed noise draws of the x0 prediction ``x_t - t v`` at x_t = noise."""
    eps = torch.randn(n, *shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        v = model.velocity(eps, torch.full((n,), t), model.encode_text(ids.expand(n, -1)))
    return (eps - t * v).mean(0, keepdim=True)


def probe(weights: str) -> None:
    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.model import load_model

    model, _, _ = load_model(weights)
    ae, _ = load_autoencoder(None)
    for d in ("left", "right", "up"):
        z = mean_prediction(model, model.tokenize([CAPTION.format(d)]), 0.99, (4, 16, 8, 8))
        with torch.no_grad():
            a, b = red_track(ae.eval(), z)
        print(f"{d:5s}: red centroid x {a:.1f} -> {b:.1f} px (frame 0 -> 15)")


def plateau(groups: tuple[str, ...], steps: int, cross_attention_all: bool, seed: int, backgrounds: str,
            lr: float = 1e-3, layout: bool = False, freeze_text: bool = False,
            widths: tuple[int, ...] = UNetConfig.widths) -> None:
    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.flow import velocity_target
    from vbench_lite.methods.backbone.latents import encoded_clips
    from vbench_lite.methods.backbone.model import VideoDiffusion
    from vbench_lite.methods.backbone.recipe import NUM_CLIPS
    from vbench_lite.suites.shapes import ShapesSuite

    torch.manual_seed(seed)
    unet = UNetConfig(cross_attention=(True, True) if cross_attention_all else UNetConfig.cross_attention,
                      layout=layout, widths=widths)
    model = VideoDiffusion(unet).train()
    ae, sha = load_autoencoder(None)
    ae.eval()
    clips = encoded_clips(ae, sha, NUM_CLIPS)
    items = ShapesSuite().items("train", NUM_CLIPS)
    sel = [i for i, it in enumerate(items) if it.attributes["direction"] in groups
           and it.attributes["speed"] == "fast" and it.attributes["num_objects"] == 1
           and (backgrounds == "all" or it.attributes["background"] == "black")]
    x0_all = clips.latents[sel]
    ids = model.tokenize([clips.prompts[i] for i in sel])
    # One probe caption per group: the group's first clip (its colour is whatever that clip has).
    first = {g: next(k for k, i in enumerate(sel) if items[i].attributes["direction"] == g) for g in groups}
    print(f"{len(sel)} clips ({', '.join(groups)}; single object, fast, {backgrounds} background(s)), t = {T_TRAIN}")
    for g, k in first.items():
        a, b = centroid(ae, x0_all[[i for i, s in enumerate(sel) if items[s].attributes["direction"] == g]], g)
        print(f"  data mean, {g}: {AXIS[g]} {a:.1f} -> {b:.1f} px (probe caption: {clips.prompts[sel[k]]!r})")
    if freeze_text:
        model.text_encoder.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed + 1)
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        idx = torch.randint(len(sel), (32,), generator=gen)
        x0 = x0_all[idx]
        eps = torch.randn(x0.shape, generator=gen)
        # x_t with Python-float weights: flow.interpolate's float32 (1 - t) rounds differently and
        # moves the documented step-by-step numbers.
        xt = (1 - T_TRAIN) * x0 + T_TRAIN * eps
        v = model.velocity(xt, torch.full((32,), T_TRAIN), model.encode_text(ids[idx]))
        loss = F.mse_loss(v, velocity_target(x0, eps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            tracks = []
            for g, k in first.items():
                z = mean_prediction(model, ids[k : k + 1], T_TRAIN, tuple(x0_all.shape[1:]))
                with torch.no_grad():
                    a, b = centroid(ae, z, g)
                tracks.append(f"{g} {AXIS[g]} {a:.1f} -> {b:.1f}")
            print(f"step {step}: loss {loss.item():.4f}, {time.perf_counter() - t0:.0f} s; mean prediction "
                  f"centroid: {', '.join(tracks)}", flush=True)


def centroid(autoencoder, z: torch.Tensor, direction: str) -> tuple[float, float]:
    """Centroid (px) along ``direction``'s axis, first and last frame, of the mean of latent videos ``z``.

    The mass is each pixel's distance from the frame's median colour (the background), so it works
    on any background."""
    with torch.no_grad():
        vid = autoencoder.decode_video(z.mean(0, keepdim=True))[0].float()  # [T, 3, H, W]
    bg = vid.flatten(2).median(dim=2).values[:, :, None, None]
    return track((vid - bg).norm(dim=1), AXIS[direction])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--probe", metavar="WEIGHTS", help="only probe these weights' high-noise mean prediction")
    p.add_argument("--groups", default="left,right", help="comma-separated directions to train on")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cross-attention-all", action="store_true", help="text cross-attention at both levels")
    p.add_argument("--layout", action="store_true", help="UNetConfig.layout: the text-conditioned space-time field")
    p.add_argument("--widths", default="16,48", help="UNet channel widths per level")
    p.add_argument("--freeze-text", action="store_true", help="keep the caption encoder at its random init")
    p.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (the baseline recipe's 1e-3)")
    p.add_argument("--backgrounds", choices=("black", "all"), default="black", help="clips on black only, or all")
    args = p.parse_args(argv)
    if args.probe:
        probe(args.probe)
        return 0
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    if not groups or any(g not in AXIS for g in groups):
        p.error(f"--groups takes directions among {','.join(AXIS)}; got {args.groups!r}")
    plateau(groups, args.steps, args.cross_attention_all, args.seed, args.backgrounds, args.lr, args.layout,
            args.freeze_text, tuple(int(w) for w in args.widths.split(",")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
