from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vbench_lite.methods.tpdiff.pyramid import (
    PyramidSchedule,
    align_noise,
    down,
    paired_noise,
    renoise,
    renoise_coefficients,
    renoise_start,
    stage_endpoints,
    stage_training_pair,
    up,
)

SCHED = PyramidSchedule(3)


def test_schedule_constants() -> None:
    assert [SCHED.end(k) for k in (2, 1, 0)] == [2 / 3, 1 / 3, 0.0]
    assert SCHED.start(2) == 1.0
    # s = sqrt(2) e / (1 - e + sqrt(2) e): 2 sqrt2 / (1 + 2 sqrt2) and sqrt2 / (2 + sqrt2)
    assert SCHED.start(1) == pytest.approx(2 * math.sqrt(2) / (1 + 2 * math.sqrt(2)))
    assert SCHED.start(0) == pytest.approx(math.sqrt(2) / (2 + math.sqrt(2)))
    for e in (1 / 3, 2 / 3, 0.1):
        s = renoise_start(e)
        assert s > e  # each later stage starts noisier than the previous one ended
        assert (s / (1 - s)) / (e / (1 - e)) == pytest.approx(math.sqrt(2))
    assert [SCHED.frames(k, 16) for k in (2, 1, 0)] == [4, 8, 16]
    assert SCHED.frame_positions(2, 16).tolist() == [0, 4, 8, 12]
    with pytest.raises(ValueError, match="multiple of 4"):
        SCHED.frames(2, 10)


def test_up_down_shapes_and_values() -> None:
    x = torch.arange(2 * 3 * 8 * 2 * 2, dtype=torch.float32).reshape(2, 3, 8, 2, 2)
    d = down(x, 4)
    assert d.shape == (2, 3, 2, 2, 2)
    assert torch.allclose(d[:, :, 0], x[:, :, :4].mean(2))
    u = up(d, 2)
    assert u.shape == (2, 3, 4, 2, 2) and torch.equal(u[:, :, 0], u[:, :, 1])
    with pytest.raises(ValueError, match="not divisible"):
        down(x[:, :, :6], 4)


def test_stage_endpoints_match_x_t() -> None:
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(3, 4, 16, 4, 4, generator=g)
    for k in range(3):
        eps = torch.randn(3, 4, SCHED.frames(k, 16), 4, 4, generator=g)
        end, start = stage_endpoints(x0, eps, k, SCHED)
        xt_end, v = stage_training_pair(x0, eps, torch.full((3,), SCHED.end(k)), k, SCHED)
        xt_start, _ = stage_training_pair(x0, eps, torch.full((3,), SCHED.start(k)), k, SCHED)
        assert torch.allclose(xt_end, end, atol=1e-6) and torch.allclose(xt_start, start, atol=1e-6)
        assert torch.allclose(v, start - end)
    # the last stage ends at the data, the first starts from pure noise
    eps0 = torch.randn(3, 4, 16, 4, 4, generator=g)
    assert torch.allclose(stage_endpoints(x0, eps0, 0, SCHED)[0], x0)
    eps2 = torch.randn(3, 4, 4, 4, 4, generator=g)
    assert torch.equal(stage_endpoints(x0, eps2, 2, SCHED)[1], eps2)


def test_paired_noise_is_antisymmetric() -> None:
    n = paired_noise((2, 3, 8, 4, 4), torch.Generator().manual_seed(1))
    assert torch.equal(n[:, :, 0::2], -n[:, :, 1::2])


@pytest.mark.parametrize("k", [1, 0])
def test_renoised_marginal_matches_forward_process(k: int) -> None:
    """Empirical mean and pair covariance of the renoised state against the forward process."""
    g = torch.Generator().manual_seed(123)
    n = 40_000
    coarse = torch.tensor([0.7, -0.4]).view(1, 1, 2, 1, 1)  # Down(x0, 2^(k+1)) at one pixel
    e, s = SCHED.end(k + 1), SCHED.start(k)
    x_end = (1 - e) * coarse + e * torch.randn(n, 1, 2, 1, 1, generator=g, dtype=torch.float64)
    x_s = renoise(x_end, e, g).reshape(n, 4)  # two duplicated pairs -> 4 fine frames
    target_mean = ((1 - s) * up(coarse, 2)).reshape(4).double()
    se = s / math.sqrt(n)
    assert torch.allclose(x_s.mean(0), target_mean, atol=5 * se)
    cov = torch.cov(x_s.T)
    # forward process at s: independent noise of variance s^2 on every fine frame
    se_cov = s**2 * math.sqrt(2 / n)
    assert torch.allclose(cov, s**2 * torch.eye(4, dtype=torch.float64), atol=6 * se_cov)
    a, b = renoise_coefficients(e)
    assert a * e == pytest.approx(b) and b == pytest.approx(s / math.sqrt(2))


def test_alignment_never_increases_total_distance() -> None:
    g = torch.Generator().manual_seed(7)
    for _ in range(20):
        x = torch.randn(8, 2, 4, 3, 3, generator=g)
        eps = torch.randn(8, 2, 4, 3, 3, generator=g)
        aligned, perm = align_noise(x, eps)
        assert sorted(perm.tolist()) == list(range(8))  # a permutation
        before = ((x - eps) ** 2).sum().item()
        after = ((x - aligned) ** 2).sum().item()
        assert after <= before + 1e-9
    with pytest.raises(ValueError, match="differ in shape"):
        align_noise(x, eps[:4])
    assert isinstance(perm, np.ndarray)


def test_stage_times_span_the_stage() -> None:
    from vbench_lite.methods.tpdiff.sampler import pyramid_samplers

    stages = pyramid_samplers(SCHED, 30, cfg_scale=4.0)
    t = stages[1].times  # the middle stage, k = 1
    assert len(t) == 11 and t[0] == pytest.approx(SCHED.start(1)) and t[-1] == pytest.approx(SCHED.end(1))
    assert stages[1].span == SCHED.start(1) - SCHED.end(1) and stages[0].times[0] == 1.0
    assert [s.nfe for s in stages] == [20, 20, 20]
    with pytest.raises(ValueError, match="split equally over 3 stages"):
        pyramid_samplers(SCHED, 10)
