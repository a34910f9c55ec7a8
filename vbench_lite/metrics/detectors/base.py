"""The feature-detector contract (after torch-fidelity's ``FeatureExtractorBase``).

A detector maps uint8 videos ``[B, T, C, H, W]`` to one feature vector per video. It states what
it provides (``feature_dim``), the input it expects (``num_frames``, ``input_convention``), what it
does to the input before the network (``preprocessing``) and its identity (``name`` +
``weights_sha256``). Distribution metrics ask a detector for features and never know which network
it is; ``protocol()`` is what they record beside every number and what reference statistics are
keyed by.

Features must be deterministic and independent of the batch size: implementations run the
network in canonical fixed-size chunks (see :func:`run_in_chunks`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

import torch

from vbench_lite.metrics.base import UnsupportedInput
from vbench_lite.video import validate


class FeatureDetector(abc.ABC):
    """A video feature extractor with a stated input convention and identity."""

    name: ClassVar[str] = ""
    feature_dim: ClassVar[int] = 0
    num_frames: ClassVar[int] = 16
    # Frame size the network sees after its preprocessing (recorded in the FVD/KVD protocol);
    # None: set by the detector's own code, recorded as "detector-defined".
    input_size: ClassVar[int | None] = None
    input_convention: ClassVar[str] = "uint8 [B, T, 3, H, W] RGB"
    preprocessing: ClassVar[str] = ""
    # The covariance convention of FVD with this detector when none is asked for: the one of the
    # reference implementation whose protocol the detector is (see ``frechet.COVARIANCE_CONVENTIONS``).
    covariance: ClassVar[str] = "unbiased"
    # Chunk size the network always sees (the last chunk is zero-padded), so a video's features
    # never depend on how many videos were passed together.
    chunk_size: ClassVar[int] = 32

    def __init__(self, *, weights_sha256: str, weights_path: str | None, device: str = "cpu") -> None:
        self.weights_sha256 = weights_sha256
        self.weights_path = weights_path
        self.device = torch.device(device)

    def protocol(self) -> dict[str, Any]:
        """Everything a feature value depends on; reference statistics are keyed by it."""
        return {
            "detector": self.name,
            "weights_sha256": self.weights_sha256,
            "feature_dim": self.feature_dim,
            "frames": self.num_frames,
            "input_convention": self.input_convention,
            "preprocessing": self.preprocessing,
        }

    def check_videos(self, videos: torch.Tensor) -> torch.Tensor:
        validate(videos)
        if videos.shape[1] != self.num_frames:
            raise UnsupportedInput(
                f"detector {self.name!r} expects {self.num_frames} frames per video, got "
                f"{videos.shape[1]} (shape {tuple(videos.shape)}); sample the clips to "
                f"{self.num_frames} frames (evaluate --frames {self.num_frames} --frame-sampling first|middle|stride:K)"
            )
        return videos

    @torch.no_grad()
    def features(self, videos: torch.Tensor) -> torch.Tensor:
        """float32 features ``[B, feature_dim]`` of uint8 videos ``[B, T, C, H, W]``."""
        self.check_videos(videos)
        return run_in_chunks(self._features, videos, self.chunk_size, self.device)

    @abc.abstractmethod
    def _features(self, chunk: torch.Tensor) -> torch.Tensor:
        """Features of exactly ``chunk_size`` validated videos already on ``self.device``."""


def run_in_chunks(
    fn: Callable[[torch.Tensor], torch.Tensor], videos: torch.Tensor, chunk: int, device: torch.device
) -> torch.Tensor:
    """Apply ``fn`` to fixed-size chunks (the last one zero-padded) and concatenate the rows.

    Kernels may pick different algorithms (and so round differently) for different batch sizes;
    always calling the network on ``chunk`` videos makes every video's output bit-identical
    whatever batch it arrived in.
    """
    outs = []
    for start in range(0, videos.shape[0], chunk):
        part = videos[start : start + chunk].to(device)
        n = part.shape[0]
        if n < chunk:
            pad = part.new_zeros((chunk - n, *part.shape[1:]))
            part = torch.cat([part, pad])
        out = fn(part)
        outs.append(out[:n].float().cpu())
    return torch.cat(outs)
