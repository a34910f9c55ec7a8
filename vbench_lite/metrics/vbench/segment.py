"""Exact foreground/background separation on shapes-suite frames.

Shapes backgrounds are one solid colour (``vocab.BACKGROUNDS``) and objects keep a margin from the
frame edge, so a frame's background colour is the per-channel median of its one-pixel border ring,
and the foreground is every pixel whose colour differs from it by more than ``FG_THRESHOLD`` in
any channel (the least contrasting object/background pair, purple on gray, differs by 90).
"""

from __future__ import annotations

import numpy as np
import torch

FG_THRESHOLD = 40.0
NEUTRAL_BACKGROUND = (110, 110, 110)  # the suite's gray background: in-distribution for shapes-clip


def _np(video: torch.Tensor | np.ndarray) -> np.ndarray:
    return video.numpy() if isinstance(video, torch.Tensor) else np.asarray(video)


# numpy rather than torch: on a handful of 32 px frames torch's thread pool costs more than the work
def background_colours(video: torch.Tensor | np.ndarray) -> np.ndarray:
    """Per-frame background colour of a uint8 video ``[T, 3, H, W]`` -> float32 ``[T, 3]``."""
    v = _np(video)
    ring = np.concatenate([v[..., 0, :], v[..., -1, :], v[..., 1:-1, 0], v[..., 1:-1, -1]], axis=-1)
    return np.median(ring, axis=-1).astype(np.float32)


def colour_distance(video: torch.Tensor | np.ndarray, bg: np.ndarray | None = None) -> np.ndarray:
    """Per-pixel max-channel distance from the frame's background colour -> float32 ``[T, H, W]``."""
    v = _np(video)
    if bg is None:
        bg = background_colours(v)
    return np.abs(v.astype(np.float32) - bg[:, :, None, None]).max(axis=1)


def foreground_mask(video: torch.Tensor | np.ndarray, bg: np.ndarray | None = None) -> np.ndarray:
    """Boolean ``[T, H, W]``: pixels that are not background."""
    return colour_distance(video, bg) > FG_THRESHOLD


def object_frames(video: torch.Tensor) -> torch.Tensor:
    """The objects on the neutral gray background (subject-consistency input, embedded mode)."""
    v = _np(video)
    fg = foreground_mask(v)[:, None]
    neutral = np.array(NEUTRAL_BACKGROUND, dtype=np.uint8).reshape(1, 3, 1, 1)
    return torch.from_numpy(np.where(fg, v, neutral))


def background_frames(video: torch.Tensor) -> torch.Tensor:
    """The frames with the objects (dilated by one pixel, to cover anti-aliased edges) painted
    over with the frame's background colour (background-consistency input, embedded mode)."""
    from scipy import ndimage

    v = _np(video)
    bg = background_colours(v)
    fg = foreground_mask(v, bg)
    fg = ndimage.binary_dilation(fg, structure=np.ones((1, 3, 3), dtype=bool))[:, None]
    fill = np.clip(np.round(bg), 0, 255).astype(np.uint8)[:, :, None, None]
    return torch.from_numpy(np.where(fg, fill, v))
