"""Vectorised, anti-aliased rendering of shapes videos from their attributes.

Each shape is a signed distance function in normalised coordinates; pixel coverage is
``clamp(0.5 - sdf * H, 0, 1)`` (a one-pixel linear ramp across the edge), which anti-aliases
edges identically at every resolution. All videos of a chunk are rendered in one batch of tensor
operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vbench_lite.suites.shapes import vocab
from vbench_lite.suites.shapes.sample import NUM_FRAMES, centres

_SHAPE_ID = {s: i for i, s in enumerate(vocab.SHAPES)}
_CHUNK = 128  # videos per tensor batch: bounds memory at 64 px


def _sd_box(px: torch.Tensor, py: torch.Tensor, hx: torch.Tensor, hy: torch.Tensor) -> torch.Tensor:
    qx, qy = px.abs() - hx, py.abs() - hy
    outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
    return outside + torch.maximum(qx, qy).clamp(max=0)


def _sd_triangle(px: torch.Tensor, py: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Equilateral triangle pointing up (Inigo Quilez's sdEquilateralTriangle, y flipped)."""
    k = 3.0**0.5
    x = px.abs() - r
    y = -py + r / k
    fold = (x + k * y) > 0
    x2 = torch.where(fold, (x - k * y) / 2, x)
    y2 = torch.where(fold, (-k * x - y) / 2, y)
    x2 = x2 - torch.clamp(x2, min=-2 * r, max=torch.zeros_like(r))
    return -torch.sqrt(x2**2 + y2**2) * torch.sign(y2)


def _sdf(shape_id: torch.Tensor, px: torch.Tensor, py: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Signed distance of every pixel to each video's shape; ``shape_id``, ``r``: [B, 1, 1, 1]."""
    circle = torch.sqrt(px**2 + py**2) - r
    square = _sd_box(px, py, 0.85 * r, 0.85 * r)
    # Side 2r, height sqrt(3)r; the centroid sits h/6 below the bounding-box centre, so shift
    # it down by h/6 to keep the whole triangle inside the object's [-r, r] box.
    triangle = _sd_triangle(px, py - (3.0**0.5 / 6.0) * r, r)
    arm = r / 3
    cross = torch.minimum(_sd_box(px, py, r, arm), _sd_box(px, py, arm, r))
    out = torch.where(shape_id == 0, circle, square)
    out = torch.where(shape_id == 2, triangle, out)
    return torch.where(shape_id == 3, cross, out)


def render_attributes(
    attrs: list[dict[str, Any]], *, resolution: int = 32, frames: int = NUM_FRAMES
) -> torch.Tensor:
    """Render videos from attribute dicts -> uint8 ``[B, T, 3, H, W]``."""
    if not attrs:
        raise ValueError("no videos to render: the attribute list is empty")
    if resolution < 8:
        raise ValueError(f"resolution must be at least 8 px, got {resolution}")
    out = [_render_chunk(attrs[i : i + _CHUNK], resolution, frames) for i in range(0, len(attrs), _CHUNK)]
    return torch.cat(out)


def _render_chunk(attrs: list[dict[str, Any]], res: int, frames: int) -> torch.Tensor:
    b = len(attrs)
    grid = (torch.arange(res, dtype=torch.float32) + 0.5) / res
    gy, gx = grid.view(1, 1, res, 1), grid.view(1, 1, 1, res)
    bg = torch.tensor([vocab.BACKGROUNDS[a["background"]] for a in attrs], dtype=torch.float32)
    img = bg.view(b, 1, 3, 1, 1).expand(b, frames, 3, res, res).clone()
    max_objects = max(len(a["objects"]) for a in attrs)
    cents = [centres(a, frames) for a in attrs]
    for k in range(max_objects):
        present = torch.tensor([len(a["objects"]) > k for a in attrs])
        if not present.any():
            continue
        sid = torch.tensor(
            [_SHAPE_ID[a["objects"][k]["shape"]] if len(a["objects"]) > k else 0 for a in attrs]
        ).view(b, 1, 1, 1)
        r = torch.tensor(
            [a["objects"][k]["r"] if len(a["objects"]) > k else 0.0 for a in attrs],
            dtype=torch.float32,
        ).view(b, 1, 1, 1)
        c = np.stack([cents[i][k] if len(attrs[i]["objects"]) > k else np.zeros((frames, 2)) for i in range(b)])
        c = torch.from_numpy(c).float()  # [B, T, 2]
        px = gx - c[:, :, 0].view(b, frames, 1, 1)
        py = gy - c[:, :, 1].view(b, frames, 1, 1)
        coverage = (0.5 - _sdf(sid, px, py, r) * res).clamp_(0.0, 1.0)
        coverage = coverage * present.view(b, 1, 1, 1).float()
        color = torch.tensor(
            [vocab.COLORS[a["objects"][k]["color"]] if len(a["objects"]) > k else (0, 0, 0) for a in attrs],
            dtype=torch.float32,
        ).view(b, 1, 3, 1, 1)
        alpha = coverage.unsqueeze(2)
        img = img * (1 - alpha) + color * alpha
    return img.round_().clamp_(0, 255).to(torch.uint8)
