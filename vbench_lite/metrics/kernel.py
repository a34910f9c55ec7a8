"""Kernel distance (KID, Bińkowski et al. 2018; KVD for video features): unbiased polynomial MMD^2.

    k(x, y) = (x . y / d + 1)^3
    MMD^2_u = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1))
              - 2 sum_{i,j} k(x_i, y_j) / m^2

averaged over ``subsets`` random subsets of ``m = min(subset_size, N1, N2)`` rows of each set,
drawn without replacement with a fixed seed; mean and (population) standard deviation over the
subsets, as torch-fidelity's ``kid_subset_size`` / ``kid_subsets`` report them. Unbiased, so it
can be slightly negative for two samples of one distribution, and it needs no covariance, so it
stays meaningful with fewer samples than feature dimensions (FVD's small-sample partner).

Precision: the three Gram matrices, where all the time goes (``3 m^2 d`` multiply-adds per subset),
and the kernel values are float32 as in torch-fidelity's ``kernel_poly``; unlike torch-fidelity
the ``m^2``-term sums accumulate in float64, where float32 accumulation and the cancellation
between the three sums would lose digits. Against all-float64 the mean moves in about the 8th
significant digit (``benchmarks/real_protocol_speed.py`` prints it); ``precision="float64"``
computes everything in float64.
"""

from __future__ import annotations

import numpy as np

from vbench_lite.metrics.frechet import check_features

DEFAULT_SUBSETS = 100
DEFAULT_SUBSET_SIZE = 1000


PRECISIONS = {"float32": np.float32, "float64": np.float64}


def _kernel_sum(gram: np.ndarray, d: int, degree: int, coef0: float) -> tuple[float, float]:
    """(sum, trace) of ``(gram / d + coef0) ** degree``, the kernel in the Gram's dtype (as
    torch-fidelity), the sums accumulated in float64."""
    k = gram * gram.dtype.type(1.0 / d)
    k += gram.dtype.type(coef0)
    k = k * k * k if degree == 3 else k**degree
    return float(k.sum(dtype=np.float64)), float(np.trace(k, dtype=np.float64))


def polynomial_mmd2(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased MMD^2 of two equal-size samples under k(a, b) = (a.b/d + coef0)^degree; the Gram
    products and kernels in the samples' dtype, their sums in float64."""
    import torch

    m, d = x.shape
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    sxx, txx = _kernel_sum((xt @ xt.T).numpy(), d, degree, coef0)  # torch's GEMM: faster here than numpy's
    syy, tyy = _kernel_sum((yt @ yt.T).numpy(), d, degree, coef0)
    sxy, _ = _kernel_sum((xt @ yt.T).numpy(), d, degree, coef0)
    off = (sxx - txx + syy - tyy) / (m * (m - 1))
    return float(off - 2.0 * sxy / (m * m))


def kernel_distance(
    feats1: np.ndarray,
    feats2: np.ndarray,
    subsets: int = DEFAULT_SUBSETS,
    subset_size: int = DEFAULT_SUBSET_SIZE,
    seed: int = 0,
    precision: str = "float32",
) -> tuple[float, float]:
    """KVD/KID of ``[N1, D]`` and ``[N2, D]`` features -> (mean, std) of MMD^2 over subsets
    (``precision``: dtype of the Gram products; kernels and sums are float64 either way)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use float32 or float64")
    f1 = check_features(feats1, name="feats1").astype(PRECISIONS[precision])
    f2 = check_features(feats2, name="feats2").astype(PRECISIONS[precision])
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
