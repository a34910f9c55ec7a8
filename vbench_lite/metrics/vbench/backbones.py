"""Pluggable feature and flow backbones of the VBench dimensions.

Real protocol (VBench's own networks, weights from local files, never downloaded):
- subject consistency: DINO ViT-B/16 CLS features (timm ``vit_base_patch16_224.dino``), VBench's
  ``dino_transform``: shortest side to 224 (bilinear), ImageNet mean/std, no crop (position
  embeddings interpolated for non-square frames, as the torch-hub DINO VBench loads does);
- background consistency: CLIP ViT-B/32 image features of whole frames;
- dynamic degree: RAFT (torchvision ``raft_large``, 20 flow updates as VBench's ``iters=20``).

Embedded protocol (shapes suite): ``shapes-clip`` image features of the object region on a
neutral background (subject) and of the frame with the objects painted out (background), so the
two dimensions measure different things; Farneback flow for dynamic degree and smoothness.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from vbench_lite.fsutil import local_weights_file, sha256_file
from vbench_lite.metrics.clip_models import ClipBackbone
from vbench_lite.metrics.vbench import segment

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_HINT = "pass {option} PATH to an existing local file (nothing is downloaded)"


class ClipFrameFeatures:
    """CLIP image features of every frame; ``region`` = ``full``, ``object`` or ``background``."""

    REGIONS = ("full", "object", "background")

    def __init__(self, clip: ClipBackbone, region: str = "full") -> None:
        if region not in self.REGIONS:
            raise ValueError(f"unknown region {region!r}; use one of {', '.join(self.REGIONS)}")
        self.clip, self.region = clip, region
        self.name = f"{clip.name}:{region}"

    def frames(self, video: torch.Tensor) -> torch.Tensor:
        if self.region == "object":
            return segment.object_frames(video)
        if self.region == "background":
            return segment.background_frames(video)
        return video

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        return self.clip.encode_images(self.frames(video))

    def protocol(self) -> dict[str, Any]:
        regions = {
            "full": "whole frames",
            "object": "objects on a neutral gray background (border-median background removed)",
            "background": "objects (dilated 1 px) painted over with the border-median background",
        }
        return {**self.clip.protocol(), "region": regions[self.region]}



def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    sd = torch.load(str(path), map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "teacher"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    return {k.removeprefix("module.").removeprefix("backbone."): v for k, v in sd.items()}


class DinoFeatures:
    """DINO ViT-B/16 CLS features (VBench subject consistency) from a local weights file."""

    name = "dino-vit-b-16"

    def __init__(self, weights: str | os.PathLike[str] | None, *, device: str = "cpu", batch_size: int = 32) -> None:
        import timm
        from timm.models.vision_transformer import checkpoint_filter_fn

        p = local_weights_file(weights, "DINO ViT-B/16 (subject consistency)", _HINT.format(option="--dino-weights"))
        self.model = timm.create_model(
            "vit_base_patch16_224.dino", pretrained=False, num_classes=0, dynamic_img_size=True
        )
        sd = checkpoint_filter_fn(_state_dict(p), self.model)
        missing, unexpected = self.model.load_state_dict(sd, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"DINO weights {p} do not fit vit_base_patch16_224.dino: missing {sorted(missing)[:5]}, "
                f"unexpected {sorted(unexpected)[:5]}"
            )
        self.model.eval().requires_grad_(False).to(device)
        self.device, self.batch_size, self.sha256 = device, batch_size, sha256_file(p)

    def preprocess(self, frames: torch.Tensor) -> torch.Tensor:
        """VBench ``utils.dino_transform(224)``: ``Resize(224)`` (bilinear), /255, ImageNet norm."""
        import torchvision.transforms.functional as TF

        x = TF.resize(frames, 224, antialias=False).float() / 255.0
        # DINO's stride-16 patch conv ignores the right/bottom remainder of a non-multiple side;
        # timm's dynamic size asserts instead, so drop the same pixels explicitly
        h, w = x.shape[-2:]
        x = x[..., : h - h % 16, : w - w % 16]
        return TF.normalize(x, IMAGENET_MEAN, IMAGENET_STD)

    @torch.no_grad()
    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        out = []
        for i in range(0, video.shape[0], self.batch_size):
            x = self.preprocess(video[i : i + self.batch_size]).to(self.device)
            out.append(self.model(x).float().cpu())
        return torch.cat(out)

    def protocol(self) -> dict[str, Any]:
        return {"backbone": self.name, "architecture": "timm vit_base_patch16_224.dino",
                "weights_sha256": self.sha256,
                "preprocessing": "shortest side -> 224 bilinear, ImageNet mean/std (VBench dino_transform)"}


class RaftFlow:
    """torchvision RAFT-large flow (VBench dynamic degree) from a local weights file."""

    name = "raft-large"

    def __init__(self, weights: str | os.PathLike[str] | None, *, device: str = "cpu", updates: int = 20) -> None:
        from torchvision.models.optical_flow import raft_large

        p = local_weights_file(weights, "RAFT (dynamic degree)", _HINT.format(option="--raft-weights"))
        self.model = raft_large(weights=None, progress=False)
        self.model.load_state_dict(_state_dict(p))
        self.model.eval().requires_grad_(False).to(device)
        self.device, self.updates, self.sha256 = device, updates, sha256_file(p)

    @torch.no_grad()
    def __call__(self, frames0: torch.Tensor, frames1: torch.Tensor) -> torch.Tensor:
        h, w = frames0.shape[-2:]
        if min(h, w) < 128:
            raise ValueError(f"RAFT needs frames of at least 128 px (its correlation pyramid), got {h}x{w}; "
                             "use the embedded protocol (Farneback flow) for small videos")
        # RAFT's InputPadder: replicate-pad to a multiple of 8, then crop the flow back
        ph, pw = (-h) % 8, (-w) % 8
        pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)

        def prep(x: torch.Tensor) -> torch.Tensor:
            x = x.float().to(self.device) / 127.5 - 1.0  # torchvision RAFT expects [-1, 1]
            return torch.nn.functional.pad(x, pad, mode="replicate")

        flow = self.model(prep(frames0), prep(frames1), num_flow_updates=self.updates)[-1]
        return flow[..., pad[2] : pad[2] + h, pad[0] : pad[0] + w].float().cpu()

    def protocol(self) -> dict[str, Any]:
        return {"flow": self.name, "weights_sha256": self.sha256, "flow_updates": self.updates}
