"""Frames per forward pass of each feature network, by device kind (issue 26).

One constant for every network was wrong both ways: CLIP ViT-B/32 ran 256 frames at a time,
29% slower on a 2-core CPU than batches of 16 (15.9 s against 12.4 s for 256 frames at 224 px,
idle machine), while a GPU wants large batches. The CPU values are measured with
``python benchmarks/real_protocol_speed.py --calibrate`` (CPU time per frame over batch sizes
4 to 128, random-init weights; the table it prints is in the README); the CUDA values are
defaults no GPU here has measured yet (run the same command on one and change them here). A
batch size changes no feature by more than float32 rounding, and for a given network and device
the harness always uses the same one, so results stay reproducible.
"""

from __future__ import annotations

# frames per forward pass: {device kind: {network name: frames}}
FRAMES_PER_BATCH: dict[str, dict[str, int]] = {
    "cpu": {"vit-b-32": 16, "dino-vit-b-16": 8, "shapes-clip": 256},
    "cuda": {"vit-b-32": 256, "dino-vit-b-16": 128, "shapes-clip": 1024},
}
FALLBACK = 32


def frames_per_batch(network: str, device: str) -> int:
    """The batch size of ``network`` on ``device`` (``cpu``, ``cuda`` or ``cuda:N``)."""
    kind = "cuda" if str(device).startswith("cuda") else "cpu"
    return FRAMES_PER_BATCH[kind].get(network, FALLBACK)
