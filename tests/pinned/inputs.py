"""Synthetic inputs and random-init weights of the pinned reference values (issue 22).

Everything here is made from integer arithmetic and numpy's PCG64 generator, so it is the same
on every machine; ``scripts/pin_reference_values.py`` computes the reference implementations'
numbers on it and ``tests/test_reference_values.py`` compares ours. The content hashes are pinned
too: if numpy ever changed its streams, the tests say so instead of comparing other inputs.

Videos are uint8 ``[T, 3, H, W]``: a block texture (random 4x4-pixel blocks plus fine noise) that
translates by whole pixels per frame, so flow and frame interpolation have something to find,
sides chosen off the multiples of 8 and 16 (RAFT's and AMT's padding) and non-square (DINO's
position-embedding interpolation, CLIP's centre crop), large enough that CLIP and DINO shrink them.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

SEED = 22


def block_texture_video(frames: int, height: int, width: int, *, dx: int, dy: int, seed: int) -> torch.Tensor:
    """uint8 ``[frames, 3, height, width]``: a texture translating by (dx, dy) pixels per frame."""
    rng = np.random.Generator(np.random.PCG64(seed))
    pad = max(abs(dx), abs(dy)) * frames + 4
    big_h, big_w = height + 2 * pad, width + 2 * pad
    blocks = rng.integers(0, 256, size=(3, big_h // 4 + 1, big_w // 4 + 1), dtype=np.int64)
    tex = np.repeat(np.repeat(blocks, 4, axis=1), 4, axis=2)[:, :big_h, :big_w]
    tex = (tex * 3 + rng.integers(0, 64, size=tex.shape, dtype=np.int64)) // 4
    out = np.empty((frames, 3, height, width), dtype=np.uint8)
    for t in range(frames):
        y0, x0 = pad - dy * t, pad - dx * t
        out[t] = tex[:, y0 : y0 + height, x0 : x0 + width].astype(np.uint8)
    return torch.from_numpy(out)


def videos() -> dict[str, torch.Tensor]:
    """The pinned videos, by name."""
    return {
        # DINO / CLIP consistency, flickering: 3 frames, shrunk to 224 on the short side
        "consistency": block_texture_video(3, 236, 316, dx=3, dy=1, seed=SEED),
        # RAFT dynamic degree and AMT-S smoothness: 132 x 180 (RAFT needs >= 128 px; 132 % 8 = 4)
        "motion": block_texture_video(5, 132, 180, dx=2, dy=-1, seed=SEED + 1),
    }


def random_state_dict(model: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """A deterministic random initialisation of ``model``'s state dict (name order, PCG64):
    matrices and kernels N(0, 1 / fan_in), a ViT's ``pos_embed`` / ``cls_token`` N(0, 1), norm
    scales 1 + N(0, 0.1^2), BatchNorm running variances 1 + |N(0, 0.1^2)|, everything else
    N(0, 0.1^2); integer buffers zero."""
    rng = np.random.Generator(np.random.PCG64(seed))
    out = {}
    for name, t in model.state_dict().items():
        if not t.is_floating_point():
            out[name] = torch.zeros_like(t)
            continue
        z = rng.standard_normal(t.numel())
        if name in ("pos_embed", "cls_token"):  # ViT: as large as the patch tokens, so that how the
            v = z  # position embeddings are resampled shows in the features
        elif name.endswith("running_var"):
            v = 1.0 + 0.1 * np.abs(z)
        elif t.dim() > 1:
            v = z / np.sqrt(t.numel() // t.shape[0])
        elif t.dim() == 1 and name.endswith("weight"):
            v = 1.0 + 0.1 * z
        else:
            v = 0.1 * z
        out[name] = torch.from_numpy(v.reshape(tuple(t.shape))).to(t.dtype)
    return out


def content_sha256(obj: dict[str, torch.Tensor] | torch.Tensor) -> str:
    """SHA-256 of tensors' bytes (and names), independent of any file format."""
    h = hashlib.sha256()
    items = obj.items() if isinstance(obj, dict) else [("", obj)]
    for name, t in items:
        h.update(name.encode() + b"\0" + t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def frame_index_cases() -> list[tuple[int, int]]:
    """(video length, frames asked for): lengths 1-64 x counts 1-32, the 2048 cases of issue 22."""
    return [(n, k) for n in range(1, 65) for k in range(1, 33)]


def index_lists_sha256(lists: list[list[int]]) -> str:
    return hashlib.sha256(repr([list(map(int, x)) for x in lists]).encode()).hexdigest()


def features(seed: int, n: int, d: int, shift: float = 0.0) -> np.ndarray:
    """Feature rows for the distance pins (float32, as detectors return)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    return ((rng.standard_normal((n, d)) @ mix) + shift).astype(np.float32)
