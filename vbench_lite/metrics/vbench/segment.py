"""Exact foreground/background separation on shapes-suite frames.

Shapes backgrounds are one solid colour (``vocab.BACKGROUNDS``) and objects keep a margin from the
frame edge, so a frame's background colour is the per-channel median of its one-pixel border ring,
and the foreground is every pixel whose colour differs from it by more than ``FG_THRESHOLD`` in
any channel (the least contrasting object/background pair, purple on gray, differs by 90).
"""

from __future__ import annotations

import torch

FG_THRESHOLD = 40.0
NEUTRAL_BACKGROUND = (110, 110, 110)  # the suite's gray background: in-distribution for shapes-clip


def background_colours(video: torch.Tensor) -> torch.Tensor:
    """Per-frame background colour of a uint8 video ``[T, 3, H, W]`` -> float ``[T, 3]``."""
    v = video.float()
    ring = torch.cat([v[..., 0, :], v[..., -1, :], v[..., 1:-1, 0], v[..., 1:-1, -1]], dim=-1)
    return ring.median(dim=-1).values


def colour_distance(video: torch.Tensor, bg: torch.Tensor | None = None) -> torch.Tensor:
    """Per-pixel max-channel distance from the frame's background colour -> ``[T, H, W]``."""
    if bg is None:
        bg = background_colours(video)
    return (video.float() - bg[:, :, None, None]).abs().amax(dim=1)


def foreground_mask(video: torch.Tensor, bg: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean ``[T, H, W]``: pixels that are not background."""
    return colour_distance(video, bg) > FG_THRESHOLD


def object_frames(video: torch.Tensor) -> torch.Tensor:
    """The objects on the neutral gray background (subject-consistency input, embedded mode)."""
    fg = foreground_mask(video)
    neutral = torch.tensor(NEUTRAL_BACKGROUND, dtype=torch.uint8).view(1, 3, 1, 1)
    return torch.where(fg[:, None], video, neutral.expand_as(video))


def background_frames(video: torch.Tensor) -> torch.Tensor:
    """The frames with the objects (dilated by one pixel, to cover anti-aliased edges) painted
    over with the frame's background colour (background-consistency input, embedded mode)."""
    bg = background_colours(video)
    fg = foreground_mask(video, bg).float()[:, None]
    fg = torch.nn.functional.max_pool2d(fg, 3, stride=1, padding=1) > 0
    fill = bg.round().clamp(0, 255).to(torch.uint8)[:, :, None, None].expand_as(video)
    return torch.where(fg, fill, video)
