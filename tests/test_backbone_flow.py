"""Flow matching target and samplers against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from vbench_lite.methods.backbone.flow import (
    guided,
    interpolate,
    nfe,
    sample,
    sample_train_t,
    shift_t,
    timesteps,
    velocity_target,
)


def test_interpolation_and_velocity_target_by_hand():
    x0 = torch.tensor([[1.0, -2.0]])
    eps = torch.tensor([[0.5, 4.0]])
    t = torch.tensor([0.25])
    # x_t = 0.75 * x0 + 0.25 * eps
    assert torch.allclose(interpolate(x0, eps, t), torch.tensor([[0.875, -0.5]]))
    assert torch.equal(velocity_target(x0, eps), torch.tensor([[-0.5, 6.0]]))
    # the target is the derivative of x_t in t
    h = 1e-3
    num = (interpolate(x0, eps, t + h) - interpolate(x0, eps, t - h)) / (2 * h)
    assert torch.allclose(num, velocity_target(x0, eps), atol=1e-3)
    assert torch.equal(interpolate(x0, eps, torch.tensor([0.0])), x0)
    assert torch.equal(interpolate(x0, eps, torch.tensor([1.0])), eps)


def test_timesteps_and_shift_by_hand():
    assert timesteps(2) == [1.0, 0.5, 0.0]
    # SD3 shift 3 at t = 0.5: 1.5 / (1 + 2 * 0.5) = 0.75
    assert timesteps(2, shift=3.0) == pytest.approx([1.0, 0.75, 0.0])
    assert float(shift_t(torch.tensor(0.25), 2.0)) == pytest.approx(0.5 / 1.25)
    with pytest.raises(ValueError, match="at least 1 step"):
        timesteps(0)


def test_one_euler_step_by_hand():
    noise = torch.tensor([2.0, -1.0])
    seen = []

    def v(x, t):
        seen.append(t)
        return 3.0 * x + t

    out = sample(v, noise, steps=1, sampler="euler")
    # x(0) = x(1) + (0 - 1) * v(x(1), 1) = x - (3x + 1) = -2x - 1
    assert torch.allclose(out, torch.tensor([-5.0, 1.0]))
    assert seen == [1.0]


def test_two_euler_steps_with_shift_by_hand():
    noise = torch.tensor([1.0])
    out = sample(lambda x, t: x * 0 + t, noise, steps=2, shift=3.0)
    # t: 1 -> 0.75 -> 0; x = 1 - 0.25 * 1 - 0.75 * 0.75
    assert out.item() == pytest.approx(1 - 0.25 - 0.5625)


def test_heun_step_by_hand_and_exact_on_linear_velocity():
    noise = torch.tensor([1.0])
    # v = x: exact solution x(0) = x(1) e^{-1}; one Heun step (Euler at the final step) = Euler
    assert sample(lambda x, t: x, noise, 1, "heun").item() == pytest.approx(0.0)
    # two steps: t 1 -> 0.5 is a Heun step: x_pred = 0.5, x = 1 - 0.5 * (1 + 0.5) / 2 = 0.625
    # then Euler 0.5 -> 0: 0.625 - 0.5 * 0.625 = 0.3125
    assert sample(lambda x, t: x, noise, 2, "heun").item() == pytest.approx(0.3125)
    # Heun is second order: closer to e^{-1} than Euler at equal steps
    exact = math.exp(-1)
    e = abs(sample(lambda x, t: x, noise, 20, "euler").item() - exact)
    h = abs(sample(lambda x, t: x, noise, 20, "heun").item() - exact)
    assert h < e / 3
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(lambda x, t: x, noise, 2, "ddim")


def test_flow_from_noise_to_data_is_exact_for_the_true_velocity():
    """With the true conditional velocity of a single data point, Euler lands on it exactly."""
    x0 = torch.tensor([0.3, -0.7])
    eps = torch.tensor([1.2, 0.4])
    out = sample(lambda x, t: velocity_target(x0, eps), eps, 7, shift=2.0)
    assert torch.allclose(out, x0, atol=1e-6)


def test_cfg_combination_and_nfe():
    v = guided(lambda x, t: (torch.tensor([2.0]), torch.tensor([1.0])), 4.0)
    assert v(torch.zeros(1), 0.5).item() == 1.0 + 4.0 * (2.0 - 1.0)
    assert nfe(30, "euler", cfg=True) == 60
    assert nfe(30, "euler", cfg=False) == 30
    assert nfe(10, "heun", cfg=True) == 38


def test_train_timesteps_are_seeded_and_in_range():
    a = sample_train_t(1000, torch.Generator().manual_seed(1))
    b = sample_train_t(1000, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert 0 < a.min() and a.max() < 1 and abs(a.mean().item() - 0.5) < 0.05
