"""``shapes-video``: the embedded feature detector of the shapes suite.

A small 3D-convolutional video classifier trained by this project (``training.py``) to predict
every ground-truth attribute of a shapes video. Its penultimate layer (128-d, well below the
256-video evaluation set, so covariances are full rank) feeds FVD and KVD, playing the role the
Kinetics-400 I3D logits play in the real protocol; its attribute heads are reused by the
semantic VBench-style dimensions.

Architecture: two per-frame (1x3x3) conv layers at 32 and 16 px, two space-time 3x3x3 conv
layers (time 16 -> 8, space 16 -> 8 -> 4); the time-mean 4x4 grid flattened (object positions
matter for relations and directions) concatenated with global mean and max pooling
(translation-invariant shape and colour evidence); a linear 2304 -> 128 embedding (the
features), and one linear head per attribute on the embedding.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn as nn

from vbench_lite.metrics.detectors.base import FeatureDetector, run_in_chunks
from vbench_lite.suites.shapes.vocab import ATTRIBUTE_CLASSES
from vbench_lite.video import resize

WEIGHTS_FILE = "shapes_video.safetensors"
MANIFEST_FILE = "shapes_video.json"
INPUT_SIZE = 32
NUM_FRAMES = 16
FEATURE_DIM = 128
TRAIN_COMMAND = "python -m vbench_lite train --detector shapes-video"


def attribute_labels(attrs: dict[str, Any]) -> dict[str, int]:
    """Class index of every head for one video's ground-truth attributes."""
    out = {}
    for key, classes in ATTRIBUTE_CLASSES.items():
        value = str(attrs[key])
        if value not in classes:
            raise ValueError(f"attribute {key}={value!r} is not one of {classes}")
        out[key] = classes.index(value)
    return out


def _block(cin: int, cout: int, k: Any, s: Any, p: Any) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, k, s, p, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class ShapesVideoNet(nn.Module):
    """Input float ``[B, 3, 16, 32, 32]`` in [-1, 1]; returns (features [B, 128], logits [B, sum K])."""

    def __init__(self, widths: tuple[int, int, int, int] = (16, 32, 64, 128), feature_dim: int = FEATURE_DIM):
        super().__init__()
        a, b, c, d = widths
        self.body = nn.Sequential(
            _block(3, a, (1, 3, 3), 1, (0, 1, 1)),
            _block(a, b, (1, 3, 3), (1, 2, 2), (0, 1, 1)),
            _block(b, c, 3, 2, 1),
            _block(c, d, 3, (1, 2, 2), 1),
        )
        self.embed = nn.Linear(d * 4 * 4 + 2 * d, feature_dim)
        self.heads = nn.Linear(feature_dim, sum(len(v) for v in ATTRIBUTE_CLASSES.values()))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)  # [B, d, T/2, 4, 4]
        # Where things are (time-mean 4x4 grid) and what they are, wherever they are (global
        # mean and max pooling: translation-invariant evidence of shape and colour).
        pooled = [h.mean(2).flatten(1), h.mean(dim=(2, 3, 4)), h.amax(dim=(2, 3, 4))]
        feats = self.embed(torch.cat(pooled, 1))
        return feats, self.heads(feats)


def split_logits(logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """The concatenated head outputs split per attribute, in ``ATTRIBUTE_CLASSES`` order."""
    out, start = {}, 0
    for key, classes in ATTRIBUTE_CLASSES.items():
        out[key] = logits[:, start : start + len(classes)]
        start += len(classes)
    return out


def to_network_input(videos: torch.Tensor) -> torch.Tensor:
    """uint8 ``[B, T, C, H, W]`` -> float ``[B, C, T, 32, 32]`` in [-1, 1] (the training input)."""
    if videos.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        videos = resize(videos, INPUT_SIZE)
    return (videos.float() / 127.5 - 1.0).permute(0, 2, 1, 3, 4).contiguous()


def assets_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "assets"


def default_weights_path() -> Path:
    """``$VBENCH_LITE_WEIGHTS/shapes_video.safetensors`` if that file exists, else the shipped one."""
    folder = os.environ.get("VBENCH_LITE_WEIGHTS")
    if folder and (Path(folder) / WEIGHTS_FILE).is_file():
        return Path(folder) / WEIGHTS_FILE
    return assets_dir() / WEIGHTS_FILE


class ShapesVideoDetector(FeatureDetector):
    """Embedded 3D-conv shapes classifier; 128-d penultimate features (the shapes-suite FVD network)."""

    name: ClassVar[str] = "shapes-video"
    feature_dim: ClassVar[int] = FEATURE_DIM
    num_frames: ClassVar[int] = NUM_FRAMES
    input_size: ClassVar[int | None] = 32  # the shapes suite's frames, taken as they are
    input_convention: ClassVar[str] = "uint8 [B, 16, 3, H, W] RGB"
    preprocessing: ClassVar[str] = (
        "resize to 32x32 (bilinear, antialiased, round to uint8) unless already 32x32; "
        "x / 127.5 - 1; layout [B, C, T, H, W]; features = 128-d embedding before the heads"
    )

    def __init__(self, net: ShapesVideoNet, *, weights_sha256: str, weights_path: str | None, device: str = "cpu"):
        super().__init__(weights_sha256=weights_sha256, weights_path=weights_path, device=device)
        self.net = net.to(self.device).eval()

    @classmethod
    def load(cls, weights: str | os.PathLike[str] | None = None, device: str = "cpu") -> ShapesVideoDetector:
        from vbench_lite.fsutil import load_safetensors, sha256_file

        path = Path(weights) if weights else default_weights_path()
        if not path.is_file():
            raise FileNotFoundError(
                f"shapes-video detector weights not found: {path}; train them with "
                f"`{TRAIN_COMMAND}` (writes vbench_lite/assets/{WEIGHTS_FILE}) or pass "
                "--detector-weights PATH"
            )
        raw = load_safetensors(path, "shapes-video detector weights",
                               "for StyleGAN-V's I3D TorchScript pass --detector i3d")
        state = {k: v.float() if v.is_floating_point() else v for k, v in raw.items()}
        net = ShapesVideoNet()
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise ValueError(f"{path} is not a shapes-video checkpoint: {str(exc).splitlines()[0]}") from exc
        return cls(net, weights_sha256=sha256_file(path), weights_path=str(path), device=device)

    def _forward(self, chunk: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(to_network_input(chunk))

    def _features(self, chunk: torch.Tensor) -> torch.Tensor:
        return self._forward(chunk)[0]

    @torch.no_grad()
    def attribute_logits(self, videos: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-attribute logits ``[B, K]``, classes in ``ATTRIBUTE_CLASSES`` order."""
        self.check_videos(videos)
        logits = run_in_chunks(lambda c: self._forward(c)[1], videos, self.chunk_size, self.device)
        return split_logits(logits)

    def predict_attributes(self, videos: torch.Tensor) -> dict[str, torch.Tensor]:
        """Predicted class index per attribute (LongTensor ``[B]``), in ``ATTRIBUTE_CLASSES`` order."""
        return {k: v.argmax(1) for k, v in self.attribute_logits(videos).items()}
