"""The FVD/KVD noise floor of the shapes suite, recorded with the suite (issue 4, item 6).

Two numbers a reader needs to tell a real difference from sampling noise:

- ``disjoint_draws``: FVD and KVD between two disjoint 256-video draws of real shapes videos
  (train-stream clips far from every training and held-out slice), mean and std over ``--draws``
  independent pairs;
- ``eval_vs_reference``: FVD and KVD of the 256 real ``eval``-split videos against the cached
  2048-video reference statistics: the score of a method that reproduced every prompt perfectly.

Writes ``vbench_lite/assets/noise_floor_shapes.json`` (``--out`` to change), with the detector
protocol; the FVD/KVD metrics attach it to their results when the protocol matches. Usage::

    python benchmarks/noise_floor.py [--draws 8] [--num 256] [--weights PATH] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from vbench_lite.fsutil import atomic_write_json
from vbench_lite.metrics.detectors import load_detector
from vbench_lite.metrics.frechet import frechet_distance_from_features
from vbench_lite.metrics.kernel import DEFAULT_SUBSET_SIZE, DEFAULT_SUBSETS, kernel_distance
from vbench_lite.metrics.reference_stats import suite_reference_stats
from vbench_lite.suites.shapes import ShapesSuite

DRAW_OFFSET = 70_000_000  # train-stream index: disjoint from training (0..) and held-out (50M..)
COVARIANCE = "unbiased"


def _summary(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": [float(v) for v in values]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=8)
    ap.add_argument("--num", type=int, default=256, help="videos per side of each draw")
    ap.add_argument("--weights", help="shapes-video weights (default: the shipped file)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "vbench_lite/assets/noise_floor_shapes.json"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    suite, det = ShapesSuite(), load_detector("shapes-video", weights=args.weights)
    fvds, kvds = [], []
    for k in range(args.draws):
        base = DRAW_OFFSET + 2 * args.num * k
        a = det.features(suite.render(suite.items("train", args.num, base))).numpy()
        b = det.features(suite.render(suite.items("train", args.num, base + args.num))).numpy()
        fvds.append(frechet_distance_from_features(a, b, COVARIANCE))
        kvds.append(kernel_distance(a, b, DEFAULT_SUBSETS, DEFAULT_SUBSET_SIZE, seed=0)[0])
        print(f"draw {k}: FVD {fvds[-1]:.4f}  KVD {kvds[-1]:.6f}", file=sys.stderr)

    ref = suite_reference_stats(suite, det, covariance=COVARIANCE)
    ev = det.features(suite.render(suite.items("eval"))).numpy()
    ev_fvd = frechet_distance_from_features(ev, ref.features, COVARIANCE)
    ev_kvd = kernel_distance(ev, ref.features, DEFAULT_SUBSETS, DEFAULT_SUBSET_SIZE, seed=0)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    record = {
        "suite": suite.name,
        "suite_version": suite.version,
        "protocol": {"detector": det.protocol(), "covariance": COVARIANCE, "num_per_side": args.num,
                     "kvd_subsets": DEFAULT_SUBSETS, "kvd_subset_size": DEFAULT_SUBSET_SIZE},
        "fvd": {**_summary(fvds), "what": f"FVD between disjoint {args.num}-video real draws"},
        "kvd": {**_summary(kvds), "what": f"KVD between disjoint {args.num}-video real draws"},
        "draws": args.draws,
        "draw_source": {"split": "train", "offset": DRAW_OFFSET},
        "eval_vs_reference": {"fvd": ev_fvd, "kvd": ev_kvd[0], "kvd_std": ev_kvd[1],
                              "num_eval": len(ev), "num_reference": ref.num},
        "command": "python benchmarks/noise_floor.py " + " ".join(sys.argv[1:]),
        "git_commit": commit,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    atomic_write_json(args.out, record)
    print(json.dumps({k: record[k] for k in ("fvd", "kvd", "eval_vs_reference")}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
