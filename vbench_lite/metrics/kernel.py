"""Kernel distance (KID, Bińkowski et al. 2018; KVD for video features): unbiased polynomial MMD^2.

    k(x, y) = (x . y / d + 1)^3
    MMD^2_u = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1))
              - 2 sum_{i,j} k(x_i, y_j) / m^2

averaged over ``subsets`` random subsets of ``m = min(subset_size, N1, N2)`` rows of each set,
drawn without replacement with a fixed seed; mean and (population) standard deviation over the
subsets, as torch-fidelity's ``kid_subset_size`` / ``kid_subsets`` report them. Unbiased, so it
can be slightly negative for two samples of one distribution, and it needs no covariance, so it
stays meaningful with fewer samples than feature dimensions (FVD's small-sample partner).
"""

from __future__ import annotations

import numpy as np

from vbench_lite.metrics.frechet import check_features

DEFAULT_SUBSETS = 100
DEFAULT_SUBSET_SIZE = 1000


def polynomial_mmd2(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased MMD^2 of two equal-size float64 samples under k(a, b) = (a.b/d + coef0)^degree."""
    m, d = x.shape
    kxx = (x @ x.T / d + coef0) ** degree
    kyy = (y @ y.T / d + coef0) ** degree
    kxy = (x @ y.T / d + coef0) ** degree
    off = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(off - 2.0 * kxy.sum() / (m * m))


def kernel_distance(
    feats1: np.ndarray,
    feats2: np.ndarray,
    subsets: int = DEFAULT_SUBSETS,
    subset_size: int = DEFAULT_SUBSET_SIZE,
    seed: int = 0,
) -> tuple[float, float]:
    """KVD/KID of ``[N1, D]`` and ``[N2, D]`` features -> (mean, std) of MMD^2 over subsets."""
    f1 = check_features(feats1, name="feats1")
    f2 = check_features(feats2, name="feats2")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature dimensions differ: feats1 is {f1.shape[1]}-d, feats2 is {f2.shape[1]}-d")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    if subset_size < 2:
        raise ValueError(f"subset_size must be at least 2, got {subset_size}")
    m = min(subset_size, f1.shape[0], f2.shape[0])
    rng = np.random.default_rng(seed)
    vals = np.empty(subsets)
    for s in range(subsets):
        x = f1[np.sort(rng.choice(f1.shape[0], m, replace=False))]
        y = f2[np.sort(rng.choice(f2.shape[0], m, replace=False))]
        vals[s] = polynomial_mmd2(x, y)
    return float(vals.mean()), float(vals.std())
