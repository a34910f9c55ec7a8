"""Does a trained flow model use each part of its caption? Held-out flow-matching loss with the
true caption against the same caption with one attribute swapped (direction, colour, shape), and
against the empty caption.

If swapping a word leaves the loss unchanged, the model ignores that word, whatever its sampler
does; a diagnostic for prompt-following failures (e.g. motion direction near chance). Usage::

    python research/caption_sensitivity.py [--weights methods/baseline/weights] [--num 256]
"""

from __future__ import annotations

import argparse
import re

import torch
import torch.nn.functional as F

from vbench_lite.methods.backbone.autoencoder import load_autoencoder
from vbench_lite.methods.backbone.flow import interpolate, velocity_target
from vbench_lite.methods.backbone.latents import encoded_clips
from vbench_lite.methods.backbone.model import load_model
from vbench_lite.methods.baseline import WEIGHTS_DIR

SWAPS = {
    "direction": {"left": "right", "right": "left", "up": "down", "down": "up"},  # sign, same axis
    "axis": {"left": "up", "up": "left", "right": "down", "down": "right"},  # the other axis
    "colour": {"red": "blue", "blue": "green", "green": "red", "yellow": "purple", "purple": "yellow",
               "orange": "cyan", "cyan": "orange", "white": "red", "black": "red", "gray": "red"},
    "shape": {"circle": "square", "square": "triangle", "triangle": "cross", "cross": "circle"},
}


MOTION_SWAPS = ("direction", "axis")


def swap(prompt: str, kind: str) -> str:
    """``prompt`` with the words of ``SWAPS[kind]`` replaced: a motion swap acts on the word after
    "moving" only (so "to the left of" keeps its relation), the others on the object words only (the
    background phrase keeps its colour)."""
    table = SWAPS[kind]
    if kind in MOTION_SWAPS:
        return re.sub(r"\bmoving (\w+)", lambda m: "moving " + table.get(m.group(1), m.group(1)), prompt)
    head, sep, tail = prompt.partition(" on a ")
    return re.sub(r"\b(\w+)\b", lambda m: table.get(m.group(1), m.group(1)), head) + sep + tail


@torch.no_grad()
def sensitivity(weights: str, num: int = 256, ts: tuple[float, ...] = (0.3, 0.5, 0.7, 0.9)
                ) -> tuple[dict[str, dict[float, float]], int]:
    """Held-out loss of every caption variant at every time in ``ts`` (``{variant: {t: loss}}``) of
    the model in ``weights``, and the number of moving clips it was measured on."""
    torch.manual_seed(0)
    model, _, _ = load_model(weights)
    ae, ae_sha = load_autoencoder()
    clips = encoded_clips(ae, ae_sha, num, split="validation")
    moving = [i for i, p in enumerate(clips.prompts) if "moving" in p]
    x0 = clips.latents[moving]
    prompts = [clips.prompts[i] for i in moving]
    variants = {"true caption": prompts, "empty caption": [""] * len(prompts)}
    variants.update({f"{k} swapped": [swap(p, k) for p in prompts] for k in SWAPS})
    gen = torch.Generator().manual_seed(0)
    eps = torch.randn(x0.shape, generator=gen)
    out: dict[str, dict[float, float]] = {}
    for name, caps in variants.items():
        text = model.encode_text(model.tokenize(caps))
        out[name] = {}
        for t in ts:
            tt = torch.full((x0.shape[0],), t)
            v = model.velocity(interpolate(x0, eps, tt), tt, text)
            out[name][t] = float(F.mse_loss(v, velocity_target(x0, eps)))
    return out, len(moving)


def mean_over(losses: dict[float, float], ts: tuple[float, ...]) -> float:
    return sum(losses[t] for t in ts) / len(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=str(WEIGHTS_DIR))
    ap.add_argument("--num", type=int, default=256, help="held-out clips (the validation split has 256)")
    ap.add_argument("--t", default="0.3,0.5,0.7,0.9", help="flow-matching times to average over")
    args = ap.parse_args()
    ts = tuple(float(t) for t in args.t.split(","))
    res, num_moving = sensitivity(args.weights, args.num, ts)
    print(f"weights {args.weights}, {num_moving} moving validation clips, t in {list(ts)}")
    base = mean_over(res["true caption"], ts)
    for name, per_t in res.items():
        loss = mean_over(per_t, ts)
        print(f"{name:18s} loss {loss:.5f}  ({(loss / base - 1) * 100:+.2f}% vs true caption)")


if __name__ == "__main__":
    main()
