"""Training of the embedded feature detectors (``python -m vbench_lite train --detector NAME``).

``shapes-video``: the 3D-conv attribute classifier of ``shapes_video.py``. Training clips come from
the unbounded ``train`` split of the shapes suite, rendered once and cached as a uint8 ``.npy``
(no per-step rendering); accuracy is measured on a disjoint held-out slice of the same stream,
after the fp16 round trip of the shipped file, through the real loading code. Training checkpoints
every ``CKPT_EVERY`` steps and resumes from the last checkpoint of the same configuration.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from vbench_lite.fsutil import atomic_write_bytes, atomic_write_json, cache_dir, sha256_file

logger = logging.getLogger(__name__)

DEFAULT_STEPS = 2000
BATCH = 64
LR = 3e-3
NUM_TRAIN_MAX = 20_000
HELDOUT_OFFSET = 50_000_000  # train-stream index of the held-out slice, far past the training clips
NUM_HELDOUT = 2048
CKPT_EVERY = 100

# Trainers of other embedded networks, imported only when asked for.
_LAZY_TRAINERS = {"shapes-clip": "vbench_lite.metrics.clip_train:train_shapes_clip"}


def train_detector(name: str, *, steps: int | None = None, seed: int = 0, out: str | None = None) -> dict:
    """Train the embedded detector ``name``; returns its manifest (weights path, sha256, accuracy)."""
    if name == "shapes-video":
        return train_shapes_video(steps=steps, seed=seed, out=out)
    if name in _LAZY_TRAINERS:
        module, attr = _LAZY_TRAINERS[name].split(":")
        fn = getattr(importlib.import_module(module), attr)
        return fn(steps=steps, seed=seed, out=out)
    known = ", ".join(["shapes-video", *_LAZY_TRAINERS])
    raise ValueError(f"no trainer for detector {name!r}; trainable detectors: {known} (i3d is not trained here)")


# -- data -------------------------------------------------------------------------------------------
def cached_clips(offset: int, num: int, resolution: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """uint8 clips ``[N, T, 3, H, W]`` (memory-mapped) and labels ``[N, A]`` of train-stream items."""
    from vbench_lite.metrics.detectors.shapes_video import attribute_labels
    from vbench_lite.suites.shapes import ShapesSuite
    from vbench_lite.suites.shapes.vocab import ATTRIBUTE_CLASSES

    suite = ShapesSuite()
    folder = cache_dir("detector_train")
    stem = f"shapes-v{suite.version}-train-{offset}-{num}-{resolution}px"
    vid_path, lab_path = folder / f"{stem}.videos.npy", folder / f"{stem}.labels.npy"
    if not (vid_path.is_file() and lab_path.is_file()):
        logger.info("rendering %d training clips into %s", num, vid_path)
        tmp = folder / f".{stem}.videos.tmp.npy"
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(num, 16, 3, resolution, resolution))
        labels = np.zeros((num, len(ATTRIBUTE_CLASSES)), dtype=np.int64)
        for start in range(0, num, 512):
            items = suite.items("train", min(512, num - start), offset + start)
            arr[start : start + len(items)] = suite.render(items, resolution=resolution).numpy()
            for i, it in enumerate(items):
                labels[start + i] = list(attribute_labels(it.attributes).values())
        arr.flush()
        del arr
        buf = _npy_bytes(labels)
        tmp.replace(vid_path)
        atomic_write_bytes(lab_path, buf)
    return np.load(vid_path, mmap_mode="r"), np.load(lab_path)


def _npy_bytes(a: np.ndarray) -> bytes:
    import io

    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


# -- training ---------------------------------------------------------------------------------------
def train_shapes_video(*, steps: int | None = None, seed: int = 0, out: str | None = None) -> dict:
    from safetensors.torch import save_file

    from vbench_lite.metrics.detectors.shapes_video import (
        MANIFEST_FILE,
        WEIGHTS_FILE,
        ShapesVideoNet,
        assets_dir,
        split_logits,
    )

    steps = DEFAULT_STEPS if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    # Data sizes follow the step budget: a smoke run renders only what it can see.
    num_train = min(NUM_TRAIN_MAX, max(256, steps * BATCH))
    num_heldout = NUM_HELDOUT if steps >= 500 else 256
    config = {"steps": steps, "seed": seed, "batch": BATCH, "lr": LR, "num_train": num_train, "arch": "v2"}
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    ckpt_path = cache_dir("detector_train", "shapes-video") / f"ckpt-{key}.pt"

    videos, labels = cached_clips(0, num_train)
    torch.manual_seed(seed)
    net = ShapesVideoNet()
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed)
    step = 0
    if ckpt_path.is_file():
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"])
        step = ck["step"]
        logger.info("resumed shapes-video training from %s at step %d", ckpt_path, step)

    net.train()
    t0, seen = time.time(), 0
    while step < steps:
        idx = torch.randint(0, num_train, (BATCH,), generator=gen).sort().values.numpy()
        x = torch.from_numpy(np.ascontiguousarray(videos[idx])).float().div_(127.5).sub_(1.0)
        x = x.permute(0, 2, 1, 3, 4).contiguous()
        # Light pixel noise on half the clips, so the heads stay usable on imperfect generated videos.
        sigma = torch.rand(BATCH, 1, 1, 1, 1, generator=gen) * 0.06 * (torch.rand(BATCH, 1, 1, 1, 1, generator=gen) < 0.5)
        x = x + sigma * torch.randn(x.shape, generator=gen)
        y = torch.from_numpy(labels[idx])
        _, logits = net(x)
        loss = sum(
            torch.nn.functional.cross_entropy(lg, y[:, i]) for i, lg in enumerate(split_logits(logits).values())
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        seen += BATCH
        if step % 20 == 0 or step == steps:
            worst = min(
                (float((lg.argmax(1) == y[:, i]).float().mean()), k)
                for i, (k, lg) in enumerate(split_logits(logits.detach()).items())
            )
            logger.info(
                "step %d/%d loss %.4f lr %.2e worst batch accuracy %.3f (%s) (%.1f clips/s)",
                step, steps, float(loss), sched.get_last_lr()[0], *worst, seen / (time.time() - t0),
            )
        if step % CKPT_EVERY == 0 or step == steps:
            state = {"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "gen": gen.get_state(), "step": step}
            tmp = ckpt_path.with_suffix(".tmp")
            torch.save(state, tmp)
            tmp.replace(ckpt_path)

    out_dir = Path(out) if out else assets_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path = out_dir / WEIGHTS_FILE
    # fp16 storage halves the file; accuracy below is measured after this round trip.
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in net.state_dict().items()}
    tmp = out_dir / f".{WEIGHTS_FILE}.tmp"
    save_file(half, str(tmp))
    tmp.chmod(0o644)  # package data: readable by everyone
    tmp.replace(weights_path)
    accuracy = heldout_accuracy(str(weights_path), num_heldout)
    manifest = {
        "detector": "shapes-video",
        "weights_file": WEIGHTS_FILE,
        "sha256": sha256_file(weights_path),
        "dtype": "float16",
        "command": " ".join(["python -m vbench_lite", *sys.argv[1:]]) if "train" in sys.argv else
        f"vbench_lite.metrics.detectors.training.train_detector('shapes-video', steps={steps}, seed={seed})",
        "config": config,
        "seed": seed,
        "git_commit": _git_commit(),
        "torch": torch.__version__,
        "train_clips": {"split": "train", "offset": 0, "num": num_train},
        "heldout_clips": {"split": "train", "offset": HELDOUT_OFFSET, "num": num_heldout},
        "heldout_accuracy": accuracy,
        "min_heldout_accuracy": min(accuracy.values()),
        "train_seconds": round(time.time() - t0, 1),
    }
    atomic_write_json(out_dir / MANIFEST_FILE, manifest)
    logger.info("wrote %s (held-out accuracy min %.4f)", weights_path, manifest["min_heldout_accuracy"])
    return {**manifest, "weights_path": str(weights_path)}


def heldout_accuracy(weights: str, num: int = NUM_HELDOUT) -> dict[str, float]:
    """Per-attribute accuracy of the detector at ``weights`` on the held-out train-stream slice."""
    from vbench_lite.metrics.detectors.shapes_video import ShapesVideoDetector

    det = ShapesVideoDetector.load(weights)
    videos, labels = cached_clips(HELDOUT_OFFSET, num)
    preds = det.predict_attributes(torch.from_numpy(np.array(videos)))
    return {
        key: round(float((p.numpy() == labels[:, i]).mean()), 5) for i, (key, p) in enumerate(preds.items())
    }


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    """``python -m vbench_lite.metrics.detectors.training [STEPS]`` (until the train CLI exists)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = sys.argv[1:] if argv is None else argv
    result = train_detector("shapes-video", steps=int(args[0]) if args else None)
    logger.info("%s", json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
