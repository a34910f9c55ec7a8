"""Flow matching target against hand-computed values (the samplers: test_backbone_sampler.py)."""

from __future__ import annotations

import torch

from vbench_lite.methods.backbone.flow import interpolate, sample_train_t, velocity_target


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


def test_train_timesteps_are_seeded_and_in_range():
    a = sample_train_t(1000, torch.Generator().manual_seed(1))
    b = sample_train_t(1000, torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert 0 < a.min() and a.max() < 1 and abs(a.mean().item() - 0.5) < 0.05
