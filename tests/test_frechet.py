"""frechet_distance: closed forms, agreement with a scipy.linalg.sqrtm reference, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from vbench_lite.metrics import frechet_distance
from vbench_lite.metrics.frechet import (
    frechet_distance_from_features,
    gaussian_statistics,
    sample_warnings,
    trace_sqrt_product,
)


def _random_cov(d: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.standard_normal((d, 2 * d))
    return a @ a.T / (2 * d) + 0.05 * np.eye(d)


def _sqrtm_reference(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)  # pytorch-fid's formula
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_diagonal_closed_form():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 3, 10), rng.uniform(0.1, 3, 10)
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2) + np.sum((mu1 - mu2) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_scaled_identity_closed_form():
    d, a, b = 37, 2.5, 0.7
    mu1, mu2 = np.zeros(d), np.full(d, 0.3)
    expected = d * (np.sqrt(a) - np.sqrt(b)) ** 2 + d * 0.09
    got = frechet_distance(mu1, a * np.eye(d), mu2, b * np.eye(d))
    assert got == pytest.approx(expected, rel=1e-12)


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(1)
    s = _random_cov(64, rng)
    mu = rng.standard_normal(64)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-6


@pytest.mark.parametrize("d", [64, 400])
def test_agrees_with_sqrtm_reference(d):
    rng = np.random.default_rng(d)
    s1, s2 = _random_cov(d, rng), _random_cov(d, rng)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    ref = _sqrtm_reference(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-8)
    for method in ("cholesky", "eigh", "eig"):
        assert frechet_distance(mu1, s1, mu2, s2, method=method) == pytest.approx(ref, rel=1e-8)


def test_rank_deficient_covariance_falls_back_to_eigh():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((30, 50)), rng.standard_normal((200, 50))  # 30 samples, 50 dims
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    expected = trace_sqrt_product(s1, s2, "eigh")
    assert trace_sqrt_product(s1, s2) == pytest.approx(expected, rel=1e-10)
    # Same eigenvalues from the other side, where the Cholesky path applies.
    assert trace_sqrt_product(s2, s1) == pytest.approx(expected, rel=1e-8)
    with pytest.raises(ValueError, match="not positive definite"):
        trace_sqrt_product(s1, s2, "cholesky")


def test_is_symmetric_in_its_arguments():
    rng = np.random.default_rng(2)
    s1, s2 = _random_cov(20, rng), _random_cov(20, rng)
    mu1, mu2 = rng.standard_normal(20), rng.standard_normal(20)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-10)


def test_covariance_conventions():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 4))
    _, s_unbiased = gaussian_statistics(x)
    _, s_stylegan = gaussian_statistics(x, "stylegan-v")
    np.testing.assert_allclose(s_unbiased, np.cov(x, rowvar=False), rtol=1e-12)
    np.testing.assert_allclose(s_stylegan, s_unbiased * 49 / 50, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown covariance convention"):
        gaussian_statistics(x, "biased")


def test_bad_input_errors():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="feature dimensions differ"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="sigma2 must be"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    bad = np.eye(3)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="sigma1 contains NaN"):
        frechet_distance(np.zeros(3), bad, np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="at least 2 samples"):
        gaussian_statistics(np.zeros((1, 3)))
    feats = rng.standard_normal((10, 3))
    feats[4, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values in 1 of 10 rows"):
        frechet_distance_from_features(feats, rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match="feature dimensions differ"):
        frechet_distance_from_features(rng.standard_normal((10, 3)), rng.standard_normal((10, 4)))


def test_few_samples_warning():
    assert sample_warnings(100, 128) and "rank deficient" in sample_warnings(100, 128)[0]
    assert sample_warnings(256, 128) == []
