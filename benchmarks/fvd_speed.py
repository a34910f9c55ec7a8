"""FVD speed (issue 4 performance targets), every ratio measured side by side in one run:

1. ``frechet_distance`` at d = 2048 (trace term by Cholesky + eigvalsh, the default; by eigh
   square root; by eig(S1 S2)) against the
   ``scipy.linalg.sqrtm`` formula of pytorch-fid / StyleGAN-V, with their relative agreement.
   Target: >= 4x faster, agreement within 1e-8 relative.
2. The shapes-video detector's videos per second (features of rendered 32 px clips).
3. FVD of 2048 generated against 2048 reference shapes videos, end to end (features of the
   generated uint8 videos, cached reference statistics, FVD + bootstrap std) with the harness
   metric. Target: < 60 s on the reference machine. The first (cold) computation of the reference
   statistics is timed separately.

Usage::

    python benchmarks/fvd_speed.py [--dim 2048] [--num 2048] [--repeats 3] [--json]

Measured on the 2-core reference machine (2026-11-22): with ``OPENBLAS_NUM_THREADS=1``, load 1.2,
Cholesky 2.95 s vs sqrtm 17.8 s (6.0x, rel. diff 1e-12); with 2 BLAS threads on a machine
shared at load 4, only 3.2x (14.9 s vs 48.3 s). End to end 2048 vs 2048 with cached reference
statistics: 13.1 s; detector 82 videos/s (both at load 4).
Idle machine, 2 BLAS threads (2026-11-29, 2000-step detector): Cholesky 0.95 s vs sqrtm 8.07 s
(8.5x, rel. diff 6.3e-13; eigh 4.3x, eig 4.4x); detector 728 videos/s; reference statistics cold
3.8 s; end to end 3.0 s. The load-4 figures above were contention, not the method.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
import scipy.linalg
import torch

from vbench_lite.metrics import frechet_distance

METHODS = ("cholesky", "eigh", "eig")  # frechet_distance's default "auto" is "cholesky" here


def _best_of(fn, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return min(times), value


def _sqrtm_fd(mu1, s1, mu2, s2) -> float:
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def bench_frechet(dim: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    # Covariances of 4096 samples of correlated features, like real detector statistics.
    mix = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    f1 = rng.standard_normal((2 * dim, dim)) @ mix
    f2 = rng.standard_normal((2 * dim, dim)) @ mix * 1.1 + 0.05
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    times, values = {}, {}
    for m in METHODS:
        times[m], values[m] = _best_of(lambda m=m: frechet_distance(mu1, s1, mu2, s2, method=m), repeats)
    times["scipy_sqrtm"], values["scipy_sqrtm"] = _best_of(lambda: _sqrtm_fd(mu1, s1, mu2, s2), repeats)
    ref = values["scipy_sqrtm"]
    return {
        "dim": dim,
        "seconds": times,
        "speedup_vs_sqrtm": {m: times["scipy_sqrtm"] / times[m] for m in METHODS},
        "value": values,
        "relative_difference_vs_sqrtm": {m: abs(values[m] - ref) / abs(ref) for m in METHODS},
    }


def bench_end_to_end(num: int, weights: str | None) -> dict:
    from vbench_lite.metrics.base import MetricContext
    from vbench_lite.metrics.detectors import load_detector
    from vbench_lite.metrics.distribution import FVD, FVDConfig
    from vbench_lite.metrics.reference_stats import suite_reference_stats
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    det = load_detector("shapes-video", weights=weights)
    # "Generated" videos: real train-stream clips with a mild blur, made before the clock starts.
    items = suite.items("train", num, 90_000_000)
    gen = suite.render(items)
    blur = torch.nn.functional.avg_pool2d(gen.flatten(0, 1).float(), 3, 1, 1, count_include_pad=False)
    gen = blur.round().to(torch.uint8).view_as(gen)

    t = time.perf_counter()
    feats = det.features(gen[:512])
    det_rate = 512 / (time.perf_counter() - t)
    del feats

    t = time.perf_counter()
    suite_reference_stats(suite, det, recompute=True)
    cold = time.perf_counter() - t

    ctx = MetricContext(suite=suite)
    metric = FVD(FVDConfig(detector_weights=weights))
    metric.detector(ctx)  # load outside the clock, as a run does once
    t = time.perf_counter()
    chunks = [metric.per_video(gen[i : i + 64], items[i : i + 64], ctx)["features"] for i in range(0, num, 64)]
    (res,) = metric.aggregate({"features": np.concatenate(chunks)}, items, ctx)
    warm = time.perf_counter() - t
    return {
        "num_generated": num,
        "num_reference": res.protocol["num_reference"],
        "detector_videos_per_second": det_rate,
        "reference_stats_cold_seconds": cold,
        "fvd_end_to_end_seconds": warm,
        "fvd": res.value,
        "fvd_bootstrap_std": res.std,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--num", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--weights", help="shapes-video weights (default: the shipped file)")
    ap.add_argument("--skip-end-to-end", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    env = {"torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
           "load_average_1min": os.getloadavg()[0]}
    out = {"env": env, "frechet": bench_frechet(args.dim, args.repeats)}
    if not args.skip_end_to_end:
        with tempfile.TemporaryDirectory() as cache:  # a fresh cache: the cold path is really cold
            os.environ.setdefault("VBENCH_LITE_CACHE", cache)
            out["end_to_end"] = bench_end_to_end(args.num, args.weights)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    f = out["frechet"]
    print(f"frechet_distance at d={f['dim']} ({env['torch_threads']} threads, load {env['load_average_1min']:.1f}):")
    for k in (*METHODS, "scipy_sqrtm"):
        extra = "" if k == "scipy_sqrtm" else (
            f"  {f['speedup_vs_sqrtm'][k]:.1f}x faster than sqrtm, rel. diff {f['relative_difference_vs_sqrtm'][k]:.1e}")
        print(f"  {k:12s} {f['seconds'][k]:8.3f} s{extra}")
    if "end_to_end" in out:
        e = out["end_to_end"]
        print(f"shapes-video detector: {e['detector_videos_per_second']:.0f} videos/s")
        print(f"reference statistics ({e['num_reference']} videos), cold: {e['reference_stats_cold_seconds']:.1f} s")
        print(f"FVD {e['num_generated']} vs {e['num_reference']} end to end (cached reference): "
              f"{e['fvd_end_to_end_seconds']:.1f} s  (FVD {e['fvd']:.3f} +- {e['fvd_bootstrap_std']:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
