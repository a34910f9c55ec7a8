"""Time rendering of the shapes reference set (target: 2048 videos at 32x32 in under 30 s).

Usage: python benchmarks/shapes_render.py [--num 2048] [--resolution 32]
"""

from __future__ import annotations

import argparse
import time

import torch

from vbench_lite.suites.shapes import ShapesSuite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--num", type=int, default=2048)
    ap.add_argument("--resolution", type=int, default=32)
    args = ap.parse_args()
    suite = ShapesSuite()
    t0 = time.perf_counter()
    items = suite.items("reference", args.num)
    t1 = time.perf_counter()
    videos = suite.render(items, resolution=args.resolution)
    t2 = time.perf_counter()
    print(f"threads={torch.get_num_threads()} videos={tuple(videos.shape)}")
    print(f"sample attributes: {t1 - t0:.2f} s; render: {t2 - t1:.2f} s; total {t2 - t0:.2f} s (target < 30 s)")


if __name__ == "__main__":
    main()
