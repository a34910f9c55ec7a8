"""``vbench-lite stats --suite NAME | --videos DIR [--out FILE]``: precompute the reference statistics
FVD and KVD compare to (a suite's reference split, or a folder of the user's real videos; ``--out``
writes a portable file for ``run``/``evaluate --reference-stats FILE``)."""

from __future__ import annotations

import argparse
import json
import time


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("stats", help="precompute reference feature statistics for FVD/KVD")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--suite", help="suite whose reference split is used (e.g. shapes)")
    src.add_argument("--videos", metavar="DIR", help="a folder of real videos instead of a suite")
    p.add_argument("--frame-sampling", default="first", metavar="first|middle|stride:K",
                   help="with --videos: the clip taken from each video: its first N frames (StyleGAN-V, the default), "
                        "the middles of N segments (VBench) or every K-th frame (N: the detector's frames)")
    p.add_argument("--out", metavar="FILE", help="also write the statistics to FILE (.npz), for --reference-stats FILE")
    p.add_argument("--detector", help="feature detector (default: shapes-video for shapes, else i3d)")
    p.add_argument("--detector-weights", metavar="PATH", help="weights file of the detector")
    p.add_argument("--covariance", default=None, choices=("unbiased", "stylegan-v"),
                   help="covariance convention: N-1 or StyleGAN-V's N (default: the detector's "
                        "reference convention: stylegan-v for i3d, unbiased for shapes-video)")
    p.add_argument("--num", type=int, help="number of reference videos (default: the whole split)")
    p.add_argument("--resolution", type=int, help="render the suite's videos at this size (default: native)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--recompute", action="store_true", help="ignore a cached file and recompute")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def main(args: argparse.Namespace) -> int:
    from vbench_lite.cli import require_device
    from vbench_lite.metrics.detectors import load_detector
    from vbench_lite.metrics.reference_stats import suite_reference_stats
    from vbench_lite.metrics.reference_videos import folder_reference_stats, frames_needed, save_stats_file
    from vbench_lite.suites import build_suite

    require_device(args.device)
    suite = build_suite(args.suite) if args.suite else None  # an unknown suite is named before any detector
    if suite is not None and not suite.has_reference:
        raise ValueError(f"suite {suite.name!r} has no reference split (no real videos); "
                         "compute statistics of your real videos with --videos DIR")
    if args.videos:
        frames_needed(16, args.frame_sampling)  # an unknown sampling is named before any detector
    t0 = time.perf_counter()
    from vbench_lite.suites.base import Suite

    name = args.detector or (suite if suite is not None else Suite).default_detector  # the suite declares it
    detector = load_detector(name, weights=args.detector_weights, device=args.device)
    if suite is not None:
        stats = suite_reference_stats(suite, detector, num=args.num, resolution=args.resolution,
                                      covariance=args.covariance, recompute=args.recompute)
    else:
        stats = folder_reference_stats(args.videos, detector, sampling=args.frame_sampling,
                                       covariance=args.covariance, recompute=args.recompute)
    written = save_stats_file(stats, args.out) if args.out else None
    out = {
        "path": str(written or stats.path),
        "num": stats.num,
        "feature_dim": int(stats.features.shape[1]),
        "seconds": round(time.perf_counter() - t0, 2),
        "protocol": stats.protocol,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"reference statistics: {out['path']}")
        print(f"  {out['num']} videos, {out['feature_dim']}-d features from {name} "
              f"(weights sha256 {detector.weights_sha256[:12]}), covariance {stats.protocol['covariance']}")
        print(f"  content sha256 {stats.protocol['content_sha256'][:16]}, {out['seconds']} s")
    return 0
