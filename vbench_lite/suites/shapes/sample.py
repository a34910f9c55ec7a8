"""Seeded sampling of shapes-video attributes (content), independent of resolution.

Every video is a pure function of (suite version, seed). Start positions are chosen so every
object stays fully inside the frame for all frames, with no bouncing, and with two objects the
spatial relation holds in every frame (both objects move together).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vbench_lite.suites.shapes import vocab

VERSION = 1
NUM_FRAMES = 16
# Gap between an object's bounding box and the frame edge: over one pixel at 24 px (1/24 = 0.042),
# so the anti-aliasing ramp never reaches the border pixels at any supported resolution.
MARGIN = 0.045
P_TWO_OBJECTS = 0.3
GAP = 0.06  # minimum gap between the bounding boxes of two objects


def sample_attributes(seed: int, num_frames: int = NUM_FRAMES) -> dict[str, Any]:
    """The ground-truth attributes (and geometry) of the video with this seed."""
    rng = np.random.default_rng([VERSION, int(seed)])
    two = bool(rng.random() < P_TWO_OBJECTS)
    direction = str(rng.choice(vocab.DIRECTIONS))
    if direction == "still":
        speed = "none"
    elif two:
        speed = "slow"  # two objects side by side leave no room for fast travel
    else:
        speed = str(rng.choice(("slow", "fast")))
    background = str(rng.choice(tuple(vocab.BACKGROUNDS)))
    travel = vocab.SPEEDS[speed] * (num_frames - 1)
    ux, uy = vocab.DIRECTION_VECTORS[direction]
    vx, vy = ux * vocab.SPEEDS[speed], uy * vocab.SPEEDS[speed]

    colors = list(vocab.COLORS)
    if not two:
        r = float(rng.uniform(0.12, 0.16))
        extent = ((r, r),)  # half-size in x and y of the group's bounding box around its centre
        offsets = ((0.0, 0.0),)
        relation = "none"
        objs = [(str(rng.choice(vocab.SHAPES)), str(rng.choice(colors)))]
    else:
        r = float(rng.uniform(0.10, 0.12))
        relation = str(rng.choice(("left of", "above")))
        half_sep = r + GAP / 2
        if relation == "left of":
            offsets = ((-half_sep, 0.0), (half_sep, 0.0))
            extent = ((2 * r + GAP / 2, r),)
        else:
            offsets = ((0.0, -half_sep), (0.0, half_sep))
            extent = ((r, 2 * r + GAP / 2),)
        c1, c2 = rng.choice(len(colors), size=2, replace=False)
        objs = [
            (str(rng.choice(vocab.SHAPES)), colors[int(c1)]),
            (str(rng.choice(vocab.SHAPES)), colors[int(c2)]),
        ]
    ex, ey = extent[0]
    # Centre range over the whole clip: start + travel must stay inside [ex+m, 1-ex-m].
    cx = _start(rng, ex, travel, ux)
    cy = _start(rng, ey, travel, uy)
    objects = [
        {"shape": s, "color": c, "x0": cx + ox, "y0": cy + oy, "r": r}
        for (s, c), (ox, oy) in zip(objs, offsets)
    ]
    attrs: dict[str, Any] = {
        "suite_version": VERSION,
        "num_objects": len(objects),
        "objects": objects,
        "shape": objects[0]["shape"],
        "color": objects[0]["color"],
        "shape2": objects[1]["shape"] if two else "none",
        "color2": objects[1]["color"] if two else "none",
        "relation": relation,
        "direction": direction,
        "speed": speed,
        "velocity": [vx, vy],
        "background": background,
    }
    attrs["caption"] = vocab.caption(attrs)
    return attrs


def _start(rng: np.random.Generator, half: float, travel: float, unit: float) -> float:
    lo, hi = half + MARGIN, 1.0 - half - MARGIN
    if unit > 0:
        hi -= travel
    elif unit < 0:
        lo += travel
    if hi < lo:  # pragma: no cover - guarded by the speed/size choices above
        raise AssertionError("shapes geometry leaves no room for the motion")
    return float(rng.uniform(lo, hi))


def centres(attrs: dict[str, Any], num_frames: int = NUM_FRAMES) -> np.ndarray:
    """Object centres per frame, ``[num_objects, T, 2]`` (x, y) in normalised coordinates."""
    t = np.arange(num_frames, dtype=np.float64)
    vx, vy = attrs["velocity"]
    out = np.empty((len(attrs["objects"]), num_frames, 2))
    for i, o in enumerate(attrs["objects"]):
        out[i, :, 0] = o["x0"] + vx * t
        out[i, :, 1] = o["y0"] + vy * t
    return out
