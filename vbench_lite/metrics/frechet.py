"""The Fréchet distance between Gaussians fitted to features (FID / FVD), exactly and fast.

    d^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2})          (Heusel et al. 2017, eq. 6;
                                                                            FVD: Unterthiner et al. 2018)

The trace term is computed without a general matrix square root: tr((S1 S2)^{1/2}) is the sum
of the square roots of the eigenvalues of S1 S2, and S1 S2 is similar to a symmetric PSD matrix
(L^T S2 L with S1 = L L^T, or S1^{1/2} S2 S1^{1/2}), whose eigenvalues ``eigvalsh`` gives in
float64. This replaces ``scipy.linalg.sqrtm`` (slower, deprecated ``disp`` argument, spurious
imaginary parts on some SciPy versions); ``benchmarks/fvd_speed.py`` times the variants against
it (see ``trace_sqrt_product``).

Covariance conventions (recorded in every result):
- ``unbiased``: divide by N - 1 (``np.cov``; pytorch-fid, clean-fid, torchmetrics, torch-fidelity);
- ``stylegan-v``: divide by N (StyleGAN-V ``FeatureStats.get_mean_cov``: raw_cov / N - mu mu^T; cd-fvd).
The harness metrics default to the convention of the detector's reference implementation
(``FeatureDetector.covariance``: ``stylegan-v`` for ``i3d``, ``unbiased`` for ``shapes-video``);
this module's functions default to ``unbiased``.
"""

from __future__ import annotations

import numpy as np

# convention name -> delta degrees of freedom of the covariance
COVARIANCE_CONVENTIONS: dict[str, int] = {"unbiased": 1, "stylegan-v": 0}
COVARIANCE_DESCRIPTIONS: dict[str, str] = {
    "unbiased": "unbiased sample covariance (divide by N-1)",
    "stylegan-v": "biased covariance (divide by N), as StyleGAN-V FeatureStats.get_mean_cov",
}


def check_features(feats: np.ndarray, *, name: str = "features", min_rows: int = 2) -> np.ndarray:
    """float64 ``[N, D]`` features, finite, with at least ``min_rows`` rows; else a clear error."""
    a = np.asarray(feats, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [N, D], got shape {a.shape}")
    if a.shape[0] < min_rows:
        raise ValueError(
            f"{name}: need at least {min_rows} samples for a covariance, got {a.shape[0]}; "
            "evaluate more videos"
        )
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a)).any(axis=1).sum())
        raise ValueError(f"{name} contain NaN or infinite values in {bad} of {a.shape[0]} rows")
    return a


def gaussian_statistics(feats: np.ndarray, covariance: str = "unbiased") -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and covariance ``[D, D]`` in float64 under the named ``covariance`` convention."""
    if covariance not in COVARIANCE_CONVENTIONS:
        raise ValueError(
            f"unknown covariance convention {covariance!r}; use one of {', '.join(COVARIANCE_CONVENTIONS)}"
        )
    a = check_features(feats)
    mu = a.mean(axis=0)
    centred = a - mu
    sigma = centred.T @ centred / (a.shape[0] - COVARIANCE_CONVENTIONS[covariance])
    return mu, (sigma + sigma.T) / 2  # exactly symmetric


def sample_warnings(num_samples: int, dim: int, *, name: str = "features") -> list[str]:
    """The warning stored with a result whose covariance is rank deficient (N <= D)."""
    if num_samples <= dim:
        return [
            f"{name}: {num_samples} samples for {dim}-d features: the covariance is rank deficient "
            "and the Frechet distance is biased; use more samples than feature dimensions"
        ]
    return []


def _check_stats(mu1, sigma1, mu2, sigma2) -> tuple[np.ndarray, ...]:
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.ndim != 1 or mu2.ndim != 1:
        raise ValueError(f"means must be 1-D vectors, got shapes {mu1.shape} and {mu2.shape}")
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature dimensions differ: mu1 has {mu1.shape[0]}, mu2 has {mu2.shape[0]}")
    d = mu1.shape[0]
    for name, s in (("sigma1", s1), ("sigma2", s2)):
        if s.shape != (d, d):
            raise ValueError(f"{name} must be [{d}, {d}] to match the means, got shape {s.shape}")
    for name, x in (("mu1", mu1), ("mu2", mu2), ("sigma1", s1), ("sigma2", s2)):
        if not np.isfinite(x).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    return mu1, s1, mu2, s2


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric PSD square root by ``eigh``; tiny negative eigenvalues (round-off) clip to 0."""
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str = "auto") -> float:
    """tr((S1 S2)^{1/2}) = sum_i sqrt(lambda_i(S1 S2)) for symmetric PSD S1, S2.

    ``cholesky``: S1 = L L^T, and S1 S2 is similar to the symmetric L^T S2 L, so one Cholesky
    factorisation and one ``eigvalsh`` (no eigenvectors) suffice; needs S1 positive definite.
    ``eigh``: S1^{1/2} from ``eigh``, then ``eigvalsh(S1^{1/2} S2 S1^{1/2})``; works for
    rank-deficient S1 (fewer samples than dimensions).
    ``auto`` (default): ``cholesky``, or ``eigh`` when S1 is not positive definite.
    ``eig``: Re eig(S1 S2) with the non-symmetric solver (benchmark only).
    ``benchmarks/fvd_speed.py`` times all of them against ``scipy.linalg.sqrtm``.
    """
    if method in ("auto", "cholesky"):
        try:
            low = np.linalg.cholesky(sigma1)
        except np.linalg.LinAlgError:
            if method == "cholesky":
                raise ValueError("sigma1 is not positive definite: use method='eigh'") from None
            method = "eigh"
        else:
            m = low.T @ sigma2 @ low
            lam = np.linalg.eigvalsh((m + m.T) / 2)
    if method == "eigh":
        r = _psd_sqrt(sigma1)
        m = r @ sigma2 @ r
        lam = np.linalg.eigvalsh((m + m.T) / 2)
    elif method == "eig":
        lam = np.linalg.eigvals(sigma1 @ sigma2).real
    elif method not in ("auto", "cholesky"):
        raise ValueError(f"unknown method {method!r}; use 'auto', 'cholesky', 'eigh' or 'eig'")
    return float(np.sqrt(np.clip(lam, 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2, *, method: str = "auto") -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (float64 throughout)."""
    mu1, s1, mu2, s2 = _check_stats(mu1, sigma1, mu2, sigma2)
    diff = mu1 - mu2
    tr = trace_sqrt_product(s1, s2, method)
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr)
    # Exact arithmetic gives >= 0; round-off on identical statistics may land at -1e-12.
    return max(value, 0.0)


def frechet_distance_from_features(
    feats1: np.ndarray, feats2: np.ndarray, covariance: str = "unbiased"
) -> float:
    """FVD/FID of two feature sets ``[N1, D]`` and ``[N2, D]``."""
    f1 = check_features(feats1, name="feats1")
    f2 = check_features(feats2, name="feats2")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"feature dimensions differ: feats1 is {f1.shape[1]}-d, feats2 is {f2.shape[1]}-d")
    return frechet_distance(*gaussian_statistics(f1, covariance), *gaussian_statistics(f2, covariance))
