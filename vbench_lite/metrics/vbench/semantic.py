"""Semantic dimensions on the shapes suite, judged against each prompt's ground-truth attributes.

VBench judges its semantic dimensions with detectors (GRiT for object class, multiple objects,
colour and spatial relationship; RAFT-based tracks for motion; ViCLIP for overall consistency),
each on the prompts written for that dimension. Here:

- ``object_class``: the shapes-video detector's shape heads (a shape cannot be read off exactly);
- ``color``, ``multiple_objects``, ``spatial_relationship``, ``motion_direction``: measured exactly
  from pixels (solid backgrounds, see ``segment.py``): connected foreground components per frame,
  their palette colour, centroids and the track of the foreground centroid;
- ``overall_consistency``: CLIPSIM of the whole caption (VBench uses a video-text model, ViCLIP).

A dimension applies to the prompts VBench would ask it on: ``multiple_objects`` and
``spatial_relationship`` to two-object prompts only, the rest to every prompt. Where a dimension
does not apply, the per-video score is NaN (not applicable), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from vbench_lite.metrics.vbench import segment
from vbench_lite.suites.shapes import vocab

MIN_AREA_FRACTION = 0.004  # components smaller than this share of the frame are noise (4 px at 32 px)
STILL_TRAVEL = 0.1  # a centroid travelling less than this share of the frame side is "still"

_PALETTE_NAMES = tuple(vocab.COLORS)
_PALETTE = np.array([vocab.COLORS[c] for c in _PALETTE_NAMES], dtype=np.float64)


@dataclass
class ObjectMeasurement:
    """What the pixels of one video show: per-video object count, colours, relation, direction."""

    num_objects: int
    colors: list[str]  # palette names of the objects in the frame where the count holds
    centroids: list[tuple[float, float]]  # (x, y) in pixels, same order as ``colors``
    direction: str | None  # one of vocab.DIRECTIONS, None when no object was seen twice


def _nearest_colour(rgb: np.ndarray) -> str:
    return _PALETTE_NAMES[int(((_PALETTE - rgb) ** 2).sum(1).argmin())]


def measure_objects(video: torch.Tensor) -> ObjectMeasurement:
    """Measure the objects of one uint8 video ``[T, 3, H, W]`` from its pixels.

    Components are labelled in all frames at once (4-connected in space, never across time);
    an object's colour is the pixel farthest from the background (its interior, not its
    anti-aliased rim), snapped to the nearest palette colour.
    """
    from scipy import ndimage

    t, _, h, w = video.shape
    dist = segment.colour_distance(video)
    mask = dist > segment.FG_THRESHOLD
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)
    labels, n = ndimage.label(mask, structure=structure)
    min_area = max(2, int(round(MIN_AREA_FRACTION * h * w)))
    idx = np.arange(1, n + 1)
    frames = video.permute(0, 2, 3, 1).numpy()
    per_frame: list[list[tuple[str, tuple[float, float]]]] = [[] for _ in range(t)]
    if n:
        areas = ndimage.sum_labels(mask, labels, idx)
        centres = ndimage.center_of_mass(mask, labels, idx)
        peaks = ndimage.maximum_position(dist, labels, idx)
        for area, (ft, cy, cx), peak in zip(areas, centres, peaks):
            if area >= min_area:
                rgb = frames[peak].astype(np.float64)
                per_frame[int(round(ft))].append((_nearest_colour(rgb), (float(cx), float(cy))))
    counts = np.array([len(c) for c in per_frame])
    values, freq = np.unique(counts, return_counts=True)
    num = int(values[freq.argmax()])  # the count most frames agree on
    frame = next(c for c in per_frame if len(c) == num)
    track = []
    ys, xs = mask.sum(1), mask.sum(2)  # [T, W], [T, H] foreground per column / row
    for i in range(t):
        total = xs[i].sum()
        if total:
            track.append((i, float((ys[i] * np.arange(w)).sum() / total),
                          float((xs[i] * np.arange(h)).sum() / total)))
    return ObjectMeasurement(num, [c for c, _ in frame], [xy for _, xy in frame], _direction(track, h, w))


def _direction(track: list[tuple[int, float, float]], h: int, w: int) -> str | None:
    """Direction of the least-squares velocity of the foreground centroid over the clip."""
    if len(track) < 2:
        return None
    tr = np.array(track)
    vx = np.polyfit(tr[:, 0], tr[:, 1], 1)[0]
    vy = np.polyfit(tr[:, 0], tr[:, 2], 1)[0]
    span = tr[-1, 0] - tr[0, 0]
    if max(abs(vx), abs(vy)) * span < STILL_TRAVEL * min(h, w):
        return "still"
    if abs(vx) >= abs(vy):
        return "right" if vx > 0 else "left"
    return "down" if vy > 0 else "up"


def _gt_colours(attrs: dict[str, Any]) -> list[str]:
    return [str(o["color"]) for o in attrs["objects"]]


def color(m: ObjectMeasurement, attrs: dict[str, Any]) -> float:
    """1 when every prompted object's colour is among the measured objects' colours."""
    return float(all(c in m.colors for c in _gt_colours(attrs)))


def multiple_objects(m: ObjectMeasurement, attrs: dict[str, Any]) -> float:
    """Two-object prompts: 1 when exactly the two prompted objects (by colour) are there."""
    if attrs["num_objects"] != 2:
        return float("nan")
    return float(m.num_objects == 2 and sorted(m.colors) == sorted(_gt_colours(attrs)))


def spatial_relationship(m: ObjectMeasurement, attrs: dict[str, Any]) -> float:
    """Two-object prompts: 1 when the first prompted object is left of / above the second
    (the larger centroid offset decides the axis), both found by colour."""
    if attrs["num_objects"] != 2:
        return float("nan")
    c0, c1 = _gt_colours(attrs)
    if c0 not in m.colors or c1 not in m.colors or c0 == c1:
        return 0.0
    x0, y0 = m.centroids[m.colors.index(c0)]
    x1, y1 = m.centroids[m.colors.index(c1)]
    dx, dy = x1 - x0, y1 - y0
    relation = "left of" if abs(dx) >= abs(dy) and dx > 0 else ("above" if abs(dy) > abs(dx) and dy > 0 else "")
    return float(relation == attrs["relation"])


def motion_direction(m: ObjectMeasurement, attrs: dict[str, Any]) -> float:
    """1 when the measured direction of motion (or stillness) is the prompted one."""
    return float(m.direction == attrs["direction"])


def object_class(predicted_shape: str, attrs: dict[str, Any]) -> float:
    """1 when the detector's shape of the (first) prompted object is the prompted shape."""
    return float(predicted_shape == attrs["shape"])


def detector_shapes(detector: Any, videos: torch.Tensor) -> list[str]:
    """The shapes-video detector's shape head -> shape names (``ATTRIBUTE_CLASSES['shape']``)."""
    pred = detector.predict_attributes(videos)["shape"].tolist()
    return [vocab.ATTRIBUTE_CLASSES["shape"][i] for i in pred]


def measured_scores(video: torch.Tensor, attrs: dict[str, Any]) -> dict[str, float]:
    """The four pixel-measured dimensions of one video against its prompt's attributes."""
    m = measure_objects(video)
    return {
        "color": color(m, attrs),
        "multiple_objects": multiple_objects(m, attrs),
        "spatial_relationship": spatial_relationship(m, attrs),
        "motion_direction": motion_direction(m, attrs),
    }
