"""Rectified-flow / flow-matching training objective (the samplers are in :mod:`.sampler`).

Convention (Lipman et al. 2023; Liu et al. 2023; SD3, Esser et al. 2024): ``x_t = (1 - t) x0 + t eps``
with ``t = 0`` data and ``t = 1`` noise; the network predicts the velocity ``v = dx_t/dt = eps - x0``.
Sampling integrates ``dx/dt = v`` from ``t = 1`` to ``t = 0`` (:class:`.sampler.FlowSampler`).
"""

from __future__ import annotations

import torch


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
