"""TPDiff's temporal pyramid in flow-matching form (Ran and Shou, arXiv 2503.09566).

Stage ``k`` (``k = 0`` is the last, full-rate stage) runs on ``T / 2**k`` frames over the
flow-matching time interval ``[e_k, s_k]`` (noise at t = 1, data at t = 0). Stage ends are uniform
in t: with K = 3, ``e_2 = 2/3``, ``e_1 = 1/3``, ``e_0 = 0``; the first stage starts from pure noise
(``s_{K-1} = 1``).

Renoising at a stage boundary (coarse stage k+1 ended at ``e = e_{k+1}``; fine stage k starts at
``s = s_k``). After ``Up`` (frame duplication) a duplicated pair carries the same noise ``(n, n)``;
add ``n' = (z, -z)`` and rescale::

    x_s = a * Up(x_e) + b * n',   n' = (z, -z), z ~ N(0, I)

Pair covariance of the noise part: ``a^2 e^2 [[1, 1], [1, 1]] + b^2 [[1, -1], [-1, 1]]``; the
forward process at ``s`` has ``s^2 I``, so ``a e = b = s / sqrt(2)``; the mean matches when
``a (1 - e) = 1 - s``. Hence ``s / (1 - s) = sqrt(2) e / (1 - e)`` (sigma/gamma grows by sqrt 2):

    s = sqrt(2) e / (1 - e + sqrt(2) e),   a = (1 - s) / (1 - e),   b = s / sqrt(2).

The covariance ``[[1, -1], [-1, 1]]`` of ``n'`` is singular, so ``n'`` is sampled directly as
``(z, -z)``, never through a Cholesky factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

SQRT2 = math.sqrt(2.0)


def down(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Average each group of ``factor`` neighbouring frames; ``x``: ``[B, C, T, h, w]``."""
    if factor == 1:
        return x
    b, c, t, h, w = x.shape
    if t % factor:
        raise ValueError(f"frame count {t} is not divisible by the pyramid factor {factor}")
    return x.reshape(b, c, t // factor, factor, h, w).mean(dim=3)


def up(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Duplicate every frame ``factor`` times; ``x``: ``[B, C, T, h, w]``."""
    return x.repeat_interleave(factor, dim=2)


def renoise_start(e: float) -> float:
    """Start time ``s`` of the next (finer) stage after a coarse stage that ended at ``e``."""
    return SQRT2 * e / (1.0 - e + SQRT2 * e)


def renoise_coefficients(e: float) -> tuple[float, float]:
    """``(a, b)`` of ``x_s = a * Up(x_e) + b * (z, -z)`` (module docstring)."""
    s = renoise_start(e)
    return (1.0 - s) / (1.0 - e), s / SQRT2


def paired_noise(shape: tuple[int, ...], generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n' = (z, -z)`` for every duplicated frame pair; ``shape`` is the fine ``[B, C, T, h, w]``."""
    b, c, t, h, w = shape
    if t % 2:
        raise ValueError(f"paired noise needs an even frame count, got {t}")
    z = torch.randn((b, c, t // 2, h, w), generator=generator, dtype=dtype)
    return torch.stack([z, -z], dim=3).reshape(b, c, t, h, w)


def renoise(x_end: torch.Tensor, e: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Up-sample a coarse stage's end state and renoise it to the next stage's start marginal."""
    a, b = renoise_coefficients(e)
    fine = up(x_end, 2)
    return a * fine + b * paired_noise(tuple(fine.shape), generator, fine.dtype)


@dataclass(frozen=True)
class PyramidSchedule:
    """Stage intervals ``[e_k, s_k]`` and frame factors ``2**k`` for K stages."""

    num_stages: int = 3

    def __post_init__(self) -> None:
        if self.num_stages < 1:
            raise ValueError(f"num_stages must be >= 1, got {self.num_stages}")

    def end(self, k: int) -> float:
        return k / self.num_stages

    def start(self, k: int) -> float:
        if k == self.num_stages - 1:
            return 1.0
        return renoise_start(self.end(k + 1))

    def factor(self, k: int) -> int:
        return 2**k

    def frames(self, k: int, total: int) -> int:
        if total % self.factor(self.num_stages - 1):
            raise ValueError(
                f"{total} frames cannot form a {self.num_stages}-stage pyramid: need a multiple of "
                f"{self.factor(self.num_stages - 1)}"
            )
        return total // self.factor(k)

    def frame_positions(self, k: int, total: int) -> torch.Tensor:
        """Absolute time indices of stage k's frames: frame n sits at ``n * 2**k``."""
        return torch.arange(self.frames(k, total)) * self.factor(k)


def stage_endpoints(x0: torch.Tensor, eps: torch.Tensor, k: int, schedule: PyramidSchedule) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x_hat_end, x_hat_start)`` of stage k for clean latents ``x0`` and one noise ``eps``.

    ``x0``: full-rate ``[B, C, T, h, w]``; ``eps``: noise at stage k's frame count.
    x_hat_end = (1 - e_k) Down(x0, 2^k) + e_k eps;
    x_hat_start = (1 - s_k) Up(Down(x0, 2^(k+1)), 2) + s_k eps (pure noise for the first stage).
    """
    e, s = schedule.end(k), schedule.start(k)
    end = (1 - e) * down(x0, schedule.factor(k)) + e * eps
    if k == schedule.num_stages - 1:
        start = eps
    else:
        start = (1 - s) * up(down(x0, schedule.factor(k + 1)), 2) + s * eps
    return end, start


def stage_training_pair(
    x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor, k: int, schedule: PyramidSchedule
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x_t, velocity target)`` within stage k at global times ``t`` (``[B]``, in [e_k, s_k]).

    t' = (t - e_k) / (s_k - e_k); x_t = (1 - t') x_hat_end + t' x_hat_start; target
    x_hat_start - x_hat_end.
    """
    end, start = stage_endpoints(x0, eps, k, schedule)
    e, s = schedule.end(k), schedule.start(k)
    tp = ((t - e) / (s - e)).view(-1, 1, 1, 1, 1).to(x0.dtype)
    return (1 - tp) * end + tp * start, start - end


def align_noise(x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
    """Immiscible-Diffusion data-noise alignment: reassign noise samples to videos.

    Solves the linear assignment on pairwise squared L2 distances (scipy's
    ``linear_sum_assignment``) and returns ``(eps[perm], perm)``; the total distance never
    exceeds the identity assignment's.
    """
    if x.shape != eps.shape:
        raise ValueError(f"videos {tuple(x.shape)} and noise {tuple(eps.shape)} differ in shape")
    cost = torch.cdist(x.flatten(1).double(), eps.flatten(1).double()).pow(2).numpy()
    _, perm = linear_sum_assignment(cost)
    return eps[torch.from_numpy(perm)], perm
