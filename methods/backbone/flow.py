"""Rectified-flow / flow-matching objective and ODE samplers.

Convention (Lipman et al. 2023; Liu et al. 2023; SD3, Esser et al. 2024): ``x_t = (1 - t) x0 + t eps``
with ``t = 0`` data and ``t = 1`` noise; the network predicts the velocity ``v = dx_t/dt = eps - x0``.
Sampling integrates ``dx/dt = v`` from ``t = 1`` to ``t = 0``.

Timestep shift (SD3 eq. 23 with ``alpha = shift``): ``t' = shift t / (1 + (shift - 1) t)``; shift > 1
spends more steps at high noise. Classifier-free guidance (Ho & Salimans 2022):
``v = v_uncond + scale (v_cond - v_uncond)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

SAMPLERS: tuple[str, ...] = ("euler", "heun")

# velocity(x, t) with t a Python float in (0, 1]; returns the (guided) velocity for x.
Velocity = Callable[[torch.Tensor, float], torch.Tensor]


def interpolate(x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``x_t = (1 - t) x0 + t eps`` with ``t`` broadcast over the trailing dimensions."""
    t = t.view(-1, *([1] * (x0.dim() - 1)))
    return (1 - t) * x0 + t * eps


def velocity_target(x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """``v = eps - x0``, the derivative of ``x_t`` in ``t``."""
    return eps - x0


def sample_train_t(n: int, generator: torch.Generator, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """Logit-normal training timesteps (SD3 sec. 3.1, ``t = sigmoid(N(mean, std))``)."""
    return torch.sigmoid(torch.randn(n, generator=generator) * std + mean)


def shift_t(t: torch.Tensor, shift: float) -> torch.Tensor:
    return shift * t / (1 + (shift - 1) * t)


def timesteps(steps: int, shift: float = 1.0) -> list[float]:
    """``steps + 1`` decreasing times from 1 to 0, uniformly spaced then shifted."""
    if steps < 1:
        raise ValueError(f"the sampler needs at least 1 step, got {steps}")
    if shift <= 0:
        raise ValueError(f"timestep shift must be positive, got {shift}")
    t = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    return [float(v) for v in shift_t(t, shift)]


def guided(velocity_pair: Callable[[torch.Tensor, float], tuple[torch.Tensor, torch.Tensor]], scale: float) -> Velocity:
    """Turn a (conditional, unconditional) velocity pair into the CFG velocity."""

    def v(x: torch.Tensor, t: float) -> torch.Tensor:
        vc, vu = velocity_pair(x, t)
        return vu + scale * (vc - vu)

    return v


def sample(
    velocity: Velocity, noise: torch.Tensor, steps: int, sampler: str = "euler", shift: float = 1.0
) -> torch.Tensor:
    """Integrate from ``t = 1`` (``noise``) to ``t = 0``.

    Euler: ``x <- x + (t_next - t) v(x, t)``. Heun (Karras et al. 2022, Alg. 1): an Euler predictor
    and a trapezoidal corrector, except on the last step to ``t = 0`` (Euler there, as in EDM).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
    ts = timesteps(steps, shift)
    x = noise
    for t, t_next in zip(ts[:-1], ts[1:]):
        dt = t_next - t
        v = velocity(x, t)
        x_pred = x + dt * v
        if sampler == "heun" and t_next > 0:
            x = x + dt * 0.5 * (v + velocity(x_pred, t_next))
        else:
            x = x_pred
    return x


def nfe(steps: int, sampler: str = "euler", cfg: bool = True) -> int:
    """Denoiser evaluations per video (a CFG step is two evaluations)."""
    per = steps if sampler == "euler" else 2 * steps - 1
    return per * (2 if cfg else 1)
