"""kernel_distance (KVD/KID): unbiased polynomial MMD against a direct loop, seeds, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vbench_lite.metrics import kernel_distance
from vbench_lite.metrics.kernel import polynomial_mmd2


def _mmd_loop(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_mmd_matches_the_definition():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.5
    assert polynomial_mmd2(x, y) == pytest.approx(_mmd_loop(x, y), rel=1e-10)


def test_full_subset_is_the_full_sample_mmd():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 4)), rng.standard_normal((30, 4))
    mean, std = kernel_distance(x, y, subsets=3, subset_size=1000, precision="float64")
    assert mean == pytest.approx(polynomial_mmd2(x, y), rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_float32_products_keep_seven_digits():
    """The default float32 Gram products (torch-fidelity's precision) with float64 sums move the
    mean by well under 1e-6 relative against all-float64, on the same subsets."""
    rng = np.random.default_rng(1)
    for n, d in ((30, 4), (300, 64), (600, 512)):
        x, y = rng.standard_normal((n, d)), rng.standard_normal((n, d)) * 1.1 + 0.05
        m64, s64 = kernel_distance(x, y, subsets=4, subset_size=n // 2, precision="float64")
        m32, s32 = kernel_distance(x, y, subsets=4, subset_size=n // 2)
        assert m32 == pytest.approx(m64, rel=1e-6) and s32 == pytest.approx(s64, rel=1e-5)
    with pytest.raises(ValueError, match="unknown precision"):
        kernel_distance(x, y, precision="float16")


def test_separates_distributions_and_is_near_zero_for_one():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((400, 8)), rng.standard_normal((400, 8))
    c = rng.standard_normal((400, 8)) * 1.5 + 0.5
    same, _ = kernel_distance(a, b, subsets=20, subset_size=200)
    diff, _ = kernel_distance(a, c, subsets=20, subset_size=200)
    assert abs(same) < 0.05 < diff


def test_seed_fixes_the_result():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((100, 6)), rng.standard_normal((100, 6))
    r1 = kernel_distance(x, y, subsets=10, subset_size=50, seed=7)
    assert r1 == kernel_distance(x, y, subsets=10, subset_size=50, seed=7)
    assert r1 != kernel_distance(x, y, subsets=10, subset_size=50, seed=8)


def test_bad_input_errors():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="feature dimensions differ"):
        kernel_distance(rng.standard_normal((10, 3)), rng.standard_normal((10, 4)))
    x = rng.standard_normal((10, 3))
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        kernel_distance(x, rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match="subset_size must be at least 2"):
        kernel_distance(rng.standard_normal((10, 3)), rng.standard_normal((10, 3)), subset_size=1)
