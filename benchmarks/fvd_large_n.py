"""FVD of several methods on N held-out prompts, with a *paired* bootstrap of the FVD ratio (issue 24).

TPDiff's quality target is "FVD within 15% of the baseline's". On the 256-video eval split the ratio's
95% interval is about [0.85, 1.71] (``benchmarks/fvd_sample_size.py``), far too wide to decide it; that
script estimates about 2,600 videos per method are needed. This script measures it at that size:

- prompts and seeds: N items of the shapes suite's ``train`` stream from ``--offset`` on (default
  100,000, far above the 6,144 clips every shipped model trained on, so never seen in training; the
  stream is drawn from the same attribute sampler as ``eval``), the same items for every method;
- real side: the suite's 2,048-video ``reference`` split under the ``shapes-video`` detector (the
  statistics FVD always uses; cached);
- per method: FVD of its N generated videos and the bootstrap std (resampling videos);
- per method against the first (``--reference``): the FVD ratio with a 95% percentile interval from a
  **paired** bootstrap that resamples prompt indices once per replicate for both methods (the same
  prompts and seeds were generated, so prompt difficulty cancels), and whether it excludes 1.15.

Features are stored per batch under ``--work`` so an interrupted run resumes where it stopped; a
batch is a pure function of (method weights, prompts, seeds), so the stored features are only
reused for the same method, items and batch size (the file name says so). FVD at N differs from FVD
at 256 by its N-dependent bias (the generated covariance's trace term): compare ratios at equal N,
not these values with the leaderboard's.

    python benchmarks/fvd_large_n.py --methods baseline,tpdiff,tpdiff:no-align --num 2560 [--threads 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from tabulate import tabulate

import vbench_lite
from vbench_lite.metrics.detectors import load_detector
from vbench_lite.metrics.frechet import frechet_distance, gaussian_statistics
from vbench_lite.metrics.reference_stats import suite_reference_stats
from vbench_lite.spec import GenerationSpec

TARGET = 1.15
BATCH = 16


def method_features(name: str, items: list, det, work: Path) -> np.ndarray:  # type: ignore[no-untyped-def]
    adapter = vbench_lite.load_method(name)
    adapter.load("cpu")
    gen = GenerationSpec()
    tag = hashlib.sha256(json.dumps([name, items[0].seed, len(items), BATCH]).encode()).hexdigest()[:12]
    out = []
    for i in range(0, len(items), BATCH):
        part = items[i:i + BATCH]
        path = work / f"{name.replace(':', '_')}-{tag}-{i:06d}.npy"
        if path.is_file():
            out.append(np.load(path))
            continue
        with torch.inference_mode():
            videos = adapter.generate([it.prompt for it in part], [it.seed for it in part], gen)
            feats = det.features(videos).numpy()
        np.save(path, feats)
        out.append(feats)
        if (i // BATCH) % 20 == 0:
            print(f"  {name}: {i + len(part)} / {len(items)} videos", flush=True)
    return np.concatenate(out)


def fvd(feats: np.ndarray, mu: np.ndarray, sigma: np.ndarray, cov: str) -> float:
    return frechet_distance(*gaussian_statistics(feats, cov), mu, sigma)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default="baseline,tpdiff,tpdiff:no-align",
                    help="comma-separated; the first is the reference of the ratios")
    ap.add_argument("--num", type=int, default=2560)
    ap.add_argument("--offset", type=int, default=100_000)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("runs/fvd_large_n"))
    ap.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    names = [m for m in args.methods.split(",") if m]
    suite = vbench_lite.load_suite("shapes")
    items = suite.items("train", args.num, args.offset)
    det = load_detector("shapes-video")
    ref = suite_reference_stats(suite, det)
    cov = ref.protocol["covariance"]
    print(f"{len(items)} held-out prompts (train stream from offset {args.offset}); reference: {ref.num} real "
          f"videos; detector shapes-video; covariance {cov}; load {os.getloadavg()[0]:.2f}", flush=True)
    feats = {m: method_features(m, items, det, args.work) for m in names}
    rng = np.random.default_rng(0)
    idx = [rng.integers(0, args.num, args.num) for _ in range(args.resamples)]
    boot = {m: np.array([fvd(f[i], ref.mu, ref.sigma, cov) for i in idx]) for m, f in feats.items()}
    base = names[0]
    values = {m: fvd(f, ref.mu, ref.sigma, cov) for m, f in feats.items()}
    rows, record = [], []
    for m in names:
        value = values[m]
        row = {"method": m, "num": args.num, "fvd": value, "bootstrap_std": float(boot[m].std())}
        if m != base:
            ratio = value / values[base]
            lo, hi = np.percentile(boot[m] / boot[base], [2.5, 97.5])
            row.update(ratio=ratio, ratio_interval=[float(lo), float(hi)],
                       within_target="yes" if hi < TARGET else ("no" if lo > TARGET else "undecided"))
        record.append(row)
        rows.append([m, f"{value:.1f} ± {row['bootstrap_std']:.1f}",
                     f"{row['ratio']:.3f} [{row['ratio_interval'][0]:.3f}, {row['ratio_interval'][1]:.3f}]"
                     if m != base else "1", row.get("within_target", "")])
    print(f"\n## FVD at N = {args.num} per method (same prompts and seeds), paired bootstrap of the ratio "
          f"({args.resamples} resamples); load {os.getloadavg()[0]:.2f}")
    print(tabulate(rows, headers=["method", "FVD ± bootstrap std", f"FVD / {base} [95%]",
                                  f"within {TARGET:.2f}x (interval below)"]))
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
