"""Calibrate the VBench-lite min-max constants of the embedded backbones on the shapes suite.

VBench's ``NORMALIZE_DIC`` holds, per dimension, the range its backbone spans; those numbers
mean nothing for another backbone. For the dimensions that run on an embedded network, the range
is measured on the suite instead:

- Max: the mean over real videos (the ``reference`` split, rendered exactly);
- Min: the mean over a degenerate set with the same captions: "frame-mixed" videos, frame t of
  degenerate video i being frame t of reference video pi_t(i) for an independent random
  permutation pi_t per frame (seed 0). Every frame is a real shapes frame, so the networks see
  in-distribution input, but subject, background and motion change at every frame and only
  ~1/N of the frames match the caption. (Pure noise is a poor floor here: a network sees every
  noise frame as "the same noise", so noise videos look consistent.)

Run ``python -m vbench_lite.metrics.vbench.calibrate`` after retraining ``shapes-clip``; the file
records the backbones' weight hashes, so stale constants are detectable.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vbench_lite.fsutil import atomic_write_json

logger = logging.getLogger(__name__)

CALIBRATED = ("subject_consistency", "background_consistency", "motion_smoothness", "overall_consistency")
REPORTED = ("temporal_flickering", "dynamic_degree")  # VBench constants apply; values kept for reference


def degenerate_videos(videos: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Frame-mixed videos: frame t of video i is frame t of video ``pi_t(i)`` (see module doc)."""
    g = torch.Generator().manual_seed(seed)
    b, t = videos.shape[:2]
    out = torch.empty_like(videos)
    for k in range(t):
        out[:, k] = videos[torch.randperm(b, generator=g), k]
    return out


def calibrate(num: int = 256, out: str | Path | None = None, batch: int = 64) -> dict[str, Any]:
    from vbench_lite.metrics.vbench.aggregate import CALIBRATED_FILE
    from vbench_lite.metrics.vbench.metric import VBenchConfig, backbones_for, score_videos
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    items = suite.items("reference", num)
    bb = backbones_for(VBenchConfig(), "cpu")
    dims = CALIBRATED + REPORTED
    ref: dict[str, list[np.ndarray]] = {d: [] for d in dims}
    deg: dict[str, list[np.ndarray]] = {d: [] for d in dims}
    all_videos = suite.render(items)
    mixed = degenerate_videos(all_videos, seed=0)
    for i in range(0, num, batch):
        chunk = items[i : i + batch]
        for store, vids in ((ref, all_videos[i : i + batch]), (deg, mixed[i : i + batch])):
            scores = score_videos(vids, chunk, bb, fps=suite.fps, dimensions=dims)
            for d in dims:
                store[d].append(scores[d])
        logger.info("calibrated on %d/%d videos", min(i + batch, num), num)
    ref_mean = {d: float(np.concatenate(ref[d]).mean()) for d in dims}
    deg_mean = {d: float(np.concatenate(deg[d]).mean()) for d in dims}
    source = (f"calibrated on shapes v{suite.version} ({suite.resolution} px, {suite.frames} frames): max = mean over "
              f"{num} reference videos, min = mean over {num} frame-mixed reference videos (seed 0) with the same captions")
    result = {
        "suite": suite.name,
        "suite_version": suite.version,
        "resolution": suite.resolution,
        "frames": suite.frames,
        "command": "python -m vbench_lite.metrics.vbench.calibrate",
        "degenerate_set": "frame-mixed: frame t of video i is frame t of reference video perm_t(i), torch seed 0",
        "dimensions": {
            d: {"min": deg_mean[d], "max": ref_mean[d], "backbone": bb.ids[d], "source": source,
                "weights_sha256": _weights(bb, d)}
            for d in CALIBRATED
        },
        "reference_means": ref_mean,
        "degenerate_means": deg_mean,
    }
    for d in CALIBRATED:
        if not deg_mean[d] < ref_mean[d]:
            raise ValueError(f"calibration of {d} failed: degenerate mean {deg_mean[d]:.4f} is not below "
                             f"the reference mean {ref_mean[d]:.4f}")
    atomic_write_json(Path(out) if out else CALIBRATED_FILE, result)
    return result


def _weights(bb: Any, dimension: str) -> str | None:
    if dimension in ("subject_consistency", "background_consistency"):
        net = bb.subject if dimension == "subject_consistency" else bb.background
        return net.clip.weights_sha256
    if dimension == "overall_consistency":
        return bb.clip.weights_sha256
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=256, help="reference videos (and noise videos)")
    parser.add_argument("--out", default=None, help="output JSON (default: the shipped asset)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result = calibrate(args.num, args.out)
    for d, c in result["dimensions"].items():
        logger.info("%s [%s]: min %.4f max %.4f", d, c["backbone"], c["min"], c["max"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
