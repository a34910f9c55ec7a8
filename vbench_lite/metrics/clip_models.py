"""CLIP backbones on open_clip: the embedded ``shapes-clip`` and the real-protocol ``ViT-B-32``.

Both are open_clip ``CLIP`` models with open_clip's own BPE tokenizer; only the config and the
weights differ. Weights always come from a local file (never fetched): the shipped
``assets/shapes_clip.safetensors`` for ``shapes-clip``, a user-given file for ``ViT-B-32``
(``--clip-weights PATH``). OpenAI's weights were trained with QuickGELU, so an OpenAI file needs
``quick_gelu=True`` (open_clip's ``ViT-B-32-quickgelu`` convention); OpenAI's TorchScript archives
are read as well as plain state dicts and safetensors files.

Preprocessing from uint8 frames, two named styles (``PREPROCESSING``):
- ``open_clip`` (CLIPSIM): open_clip's / OpenAI's ``image_transform`` for evaluation: shortest side
  resized to the input size (bicubic, antialiased and rounded to uint8 as PIL does), centre crop,
  scaled to [0, 1], CLIP mean and std;
- ``vbench`` (VBench's background consistency, ``vbench.utils.clip_transform``): the same steps on
  the float frames, without antialiasing and without rounding, as torchvision's ``Resize(n_px,
  BICUBIC, antialias=False)`` does to the float tensor VBench's ``load_video`` returns.
Raw 0-255 values never reach the image tower.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from vbench_lite.fsutil import local_weights_file, sha256_file

logger = logging.getLogger(__name__)

# OpenAI CLIP normalisation (open_clip.constants.OPENAI_DATASET_MEAN / _STD).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SHAPES_CLIP_WEIGHTS = ASSETS / "shapes_clip.safetensors"
SHAPES_CLIP_MANIFEST = ASSETS / "shapes_clip.json"

# The embedded model: a small ViT for 32 px frames (patch 4 -> 8x8 tokens) and a small causal text
# transformer over open_clip's 49408-token BPE vocabulary; captions of the shapes suite are at most
# ~25 tokens, so a 32-token context holds every one of them.
SHAPES_CLIP_CONFIG: dict[str, Any] = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 32, "patch_size": 4, "width": 64, "layers": 3, "head_width": 32},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}

# open_clip registry names of the architectures, keyed by our (lowercase) detector names.
ARCHITECTURES = {"shapes-clip": "shapes-clip", "vit-b-32": "ViT-B-32"}


def build_shapes_clip() -> torch.nn.Module:
    """A randomly initialised ``shapes-clip`` (open_clip ``CLIP`` from ``SHAPES_CLIP_CONFIG``)."""
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    cfg = SHAPES_CLIP_CONFIG
    return CLIP(
        embed_dim=cfg["embed_dim"],
        vision_cfg=CLIPVisionCfg(**cfg["vision_cfg"]),
        text_cfg=CLIPTextCfg(**cfg["text_cfg"]),
    )


def tokenizer(context_length: int) -> Any:
    """open_clip's own BPE tokenizer (``open_clip.tokenizer.SimpleTokenizer``)."""
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer(context_length=context_length)


@dataclass
class ClipBackbone:
    """An open_clip model with its tokenizer, input size and identity (name + weights SHA-256)."""

    name: str
    model: torch.nn.Module
    image_size: int
    context_length: int
    weights_sha256: str
    quick_gelu: bool = False
    device: str = "cpu"
    batch_size: int | None = None  # frames per forward pass; None: the measured default (metrics/batching.py)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.batch_size is None:
            from vbench_lite.metrics.batching import frames_per_batch

            self.batch_size = frames_per_batch(self.name, self.device)
        self.model.eval().requires_grad_(False).to(self.device)
        self._tokenizer = tokenizer(self.context_length)

    def protocol(self) -> dict[str, Any]:
        return {
            "backbone": self.name,
            "architecture": ARCHITECTURES.get(self.name, self.name),
            "weights_sha256": self.weights_sha256,
            "quick_gelu": self.quick_gelu,
            "preprocessing": PREPROCESSING["open_clip"].format(size=self.image_size),
            **self.extra,
        }

    def preprocess(self, frames: torch.Tensor, style: str = "open_clip") -> torch.Tensor:
        """uint8 ``[N, 3, H, W]`` -> normalised float ``[N, 3, S, S]`` (see module docstring)."""
        return clip_preprocess(frames, self.image_size, style)

    @torch.no_grad()
    def encode_images(self, frames: torch.Tensor, style: str = "open_clip") -> torch.Tensor:
        """L2-normalised image embeddings of uint8 frames ``[N, 3, H, W]`` -> float32 ``[N, D]``,
        preprocessed in the named ``style`` (``open_clip`` or ``vbench``)."""
        out = []
        for i in range(0, frames.shape[0], self.batch_size):
            x = self.preprocess(frames[i : i + self.batch_size], style).to(self.device)
            out.append(self.model.encode_image(x, normalize=True).float().cpu())
        return torch.cat(out)

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        return self._tokenizer(list(texts))

    @torch.no_grad()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        """L2-normalised text embeddings -> float32 ``[N, D]``."""
        if not texts:
            raise ValueError("no texts to encode: the prompt list is empty")
        out = []
        for i in range(0, len(texts), self.batch_size):
            tok = self.tokenize(texts[i : i + self.batch_size]).to(self.device)
            out.append(self.model.encode_text(tok, normalize=True).float().cpu())
        return torch.cat(out)


PREPROCESSING = {
    "open_clip": "shortest side -> {size} bicubic (antialias), centre crop, CLIP mean/std",
    "vbench": "shortest side -> {size} bicubic (no antialias, float), centre crop, CLIP mean/std "
              "(VBench clip_transform)",
}


def clip_preprocess(frames: torch.Tensor, size: int, style: str = "open_clip") -> torch.Tensor:
    """CLIP evaluation preprocessing of uint8 frames ``[N, 3, H, W]``.

    ``open_clip``: as open_clip's ``image_transform(is_train=False)``: ``Resize(size, BICUBIC)`` of
    the shortest side, ``CenterCrop(size)``, ``ToTensor`` (/255) and ``Normalize(CLIP mean, std)``.
    The resize stays in uint8 (rounded and clamped, as PIL's bicubic output is) with antialiasing,
    which is what PIL does when it shrinks. ``vbench``: VBench's ``clip_transform``, the same
    steps on float frames with ``antialias=False`` and no rounding.
    """
    import torchvision.transforms.functional as TF
    from torchvision.transforms import InterpolationMode

    if frames.dtype != torch.uint8 or frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError(
            f"CLIP preprocessing expects uint8 frames [N, 3, H, W], got {frames.dtype} {tuple(frames.shape)}"
        )
    if style not in PREPROCESSING:
        raise ValueError(f"unknown CLIP preprocessing {style!r}; use one of {', '.join(PREPROCESSING)}")
    h, w = frames.shape[-2:]
    if style == "vbench":
        frames = frames.float()  # VBench's load_video gives float frames: no uint8 rounding
    if min(h, w) != size:
        frames = TF.resize(frames, size, interpolation=InterpolationMode.BICUBIC, antialias=style == "open_clip")
    if tuple(frames.shape[-2:]) != (size, size):
        frames = TF.center_crop(frames, [size, size])
    x = frames.float() / 255.0
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from safetensors, a torch checkpoint, or an OpenAI TorchScript archive."""
    if path.suffix == ".safetensors":
        from vbench_lite.fsutil import load_safetensors

        return load_safetensors(path, "CLIP weights")
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception:  # an OpenAI JIT archive is not a pickled state dict
        try:
            obj = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise ValueError(
                f"cannot read CLIP weights {path}: neither a state dict nor a TorchScript archive ({exc})"
            ) from exc
    if isinstance(obj, torch.jit.ScriptModule):
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"CLIP weights {path} hold a {type(obj).__name__}, not a state dict")
    sd = {k.removeprefix("module."): v for k, v in obj.items()}
    for key in ("input_resolution", "context_length", "vocab_size"):  # OpenAI archive extras
        sd.pop(key, None)
    return sd


def _load_weights(model: torch.nn.Module, path: Path, state: dict[str, torch.Tensor] | None = None) -> None:
    state = _read_state_dict(path) if state is None else state
    sd = {k: v.float() for k, v in state.items() if isinstance(v, torch.Tensor)}
    try:
        missing, unexpected = model.load_state_dict(sd, strict=False)
    except RuntimeError as exc:  # size mismatches: another network's weights
        raise ValueError(f"CLIP weights {path} do not fit the architecture: {str(exc).splitlines()[-1].strip()}") from exc
    if missing or unexpected:
        raise ValueError(
            f"CLIP weights {path} do not fit the architecture: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )



def load_shapes_clip(
    weights: str | os.PathLike[str] | None = None, *, device: str = "cpu"
) -> ClipBackbone:
    """The embedded ``shapes-clip`` from ``weights`` (default: the shipped asset)."""
    p = local_weights_file(
        weights or SHAPES_CLIP_WEIGHTS,
        "shapes-clip",
        "train it with `python -m vbench_lite train --detector shapes-clip` or reinstall vbench_lite",
    )
    model = build_shapes_clip()
    _load_weights(model, p)
    return ClipBackbone(
        name="shapes-clip",
        model=model,
        image_size=SHAPES_CLIP_CONFIG["vision_cfg"]["image_size"],
        context_length=SHAPES_CLIP_CONFIG["text_cfg"]["context_length"],
        weights_sha256=sha256_file(p),
        device=device,
    )


def load_vit_b_32(
    weights: str | os.PathLike[str] | None = None, *, quick_gelu: bool = True, device: str = "cpu"
) -> ClipBackbone:
    """open_clip ``ViT-B-32`` with weights from a local file (QuickGELU for OpenAI's weights)."""
    p = local_weights_file(
        weights,
        "ViT-B-32",
        "pass --clip-weights PATH to a local open_clip/OpenAI ViT-B-32 weights file "
        "(e.g. OpenAI's ViT-B-32.pt); nothing is downloaded",
    )
    state = _read_state_dict(p)  # an unreadable file fails before the 88M-parameter model is built
    import open_clip

    model = open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=quick_gelu)
    _load_weights(model, p, state)
    return ClipBackbone(
        name="vit-b-32",
        model=model,
        image_size=224,
        context_length=77,
        weights_sha256=sha256_file(p),
        quick_gelu=quick_gelu,
        device=device,
    )


def load_clip(
    name: str,
    weights: str | os.PathLike[str] | None = None,
    *,
    device: str = "cpu",
    quick_gelu: bool = True,
) -> ClipBackbone:
    """A CLIP backbone by its name in the ``clip backbone`` registry (``shapes-clip``,
    ``vit-b-32``, or a plugin's); an unknown name is an error listing the registered ones."""
    from vbench_lite.registries import CLIP_BACKBONES

    model = CLIP_BACKBONES.get("vit-b-32" if name == "ViT-B-32" else name)
    return model.load(weights, device=device, quick_gelu=quick_gelu)


class ClipModel(ABC):
    """The contract of a registered CLIP backbone: ``load`` returns a :class:`ClipBackbone`."""

    @classmethod
    @abstractmethod
    def load(cls, weights: str | os.PathLike[str] | None = None, device: str = "cpu",
             quick_gelu: bool = True) -> ClipBackbone:
        """The backbone with ``weights`` (default: its standard place) on ``device``."""


class ShapesClip(ClipModel):
    """Embedded CLIP (open_clip small ViT + text transformer) trained on shapes frames and captions."""

    @classmethod
    def load(cls, weights: str | os.PathLike[str] | None = None, device: str = "cpu",
             quick_gelu: bool = True) -> ClipBackbone:
        return load_shapes_clip(weights, device=device)


class ViTB32(ClipModel):
    """open_clip ViT-B-32 (real CLIPSIM protocol) from a local weights file (--clip-weights)."""

    @classmethod
    def load(cls, weights: str | os.PathLike[str] | None = None, device: str = "cpu",
             quick_gelu: bool = True) -> ClipBackbone:
        return load_vit_b_32(weights, quick_gelu=quick_gelu, device=device)
