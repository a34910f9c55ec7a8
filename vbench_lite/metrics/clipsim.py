"""CLIPSIM: the mean over frames of the cosine similarity between each frame's CLIP image
embedding and the prompt's CLIP text embedding.

Two conventions, two metric names (never one number under two meanings):
- ``clipsim``: the raw cosine, neither multiplied by 100 nor clipped at 0 (the convention behind
  Make-A-Video's 0.3049 on MSR-VTT, Singer et al. 2022, Table 1, which follows GODIVA's CLIPSIM:
  average CLIP similarity over all frames). Per video, then averaged over videos.
- ``clipscore``: torchmetrics' ``CLIPScore`` convention: 100 x cosine per frame, averaged over
  every frame of every video, then clamped at 0 (``max(mean, 0)``, after the mean, as
  ``torchmetrics.functional.multimodal.clip_score`` does). With equal frame counts this is
  ``max(100 x clipsim, 0)``; the per-video scores are 100 x cosine, unclamped.

Backbones (``clip_models.py``): ``shapes-clip`` (embedded default) or ``vit-b-32`` (real protocol,
``--clip-weights PATH``). Settings (:class:`ClipConfig`): ``backbone``, ``weights``, ``quick_gelu``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from vbench_lite.metrics.base import ColumnSpec, Metric, MetricConfig, MetricContext
from vbench_lite.metrics.clip_models import ClipBackbone, load_clip
from vbench_lite.results import MetricResult
from vbench_lite.video import validate

logger = logging.getLogger(__name__)

_BACKBONES: dict[tuple[Any, ...], ClipBackbone] = {}
_FRAME_CACHE: OrderedDict[tuple[str, str], torch.Tensor] = OrderedDict()
_FRAME_CACHE_SIZE = 4096  # videos; the embeddings are small ([T, D] floats)


@dataclass(frozen=True)
class ClipConfig(MetricConfig):
    """Which CLIP: ``backbone`` (a ``list clip-backbones`` name; default ``vit-b-32`` when
    ``clip_weights`` is given, else the embedded ``shapes-clip``), its local weights file, and
    open_clip's QuickGELU activation (OpenAI's ViT-B-32 weights were trained with it)."""

    backbone: str | None = None
    clip_weights: str | None = None
    quick_gelu: bool = True


def clip_backbone_for(config: ClipConfig, device: str = "cpu") -> ClipBackbone:
    """The CLIP backbone the config asks for, loaded once per process."""
    weights = config.clip_weights
    name = config.backbone or ("vit-b-32" if weights else "shapes-clip")
    quick_gelu = config.quick_gelu
    key = (name, str(weights), device, quick_gelu)
    if key not in _BACKBONES:
        _BACKBONES[key] = load_clip(name, weights, device=device, quick_gelu=quick_gelu)
    return _BACKBONES[key]


def frame_embeddings(backbone: ClipBackbone, videos: torch.Tensor) -> torch.Tensor:
    """L2-normalised image embeddings of every frame, ``[B, T, D]``; memoised per video content,
    so CLIPSIM and VBench's overall consistency encode each frame once."""
    validate(videos)
    out: list[torch.Tensor | None] = []
    todo = []
    keys = []
    for i, v in enumerate(videos):
        key = (backbone.weights_sha256, hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest())
        keys.append(key)
        hit = _FRAME_CACHE.get(key)
        out.append(hit)
        if hit is None:
            todo.append(i)
    if todo:
        b, t = len(todo), videos.shape[1]
        flat = videos[todo].reshape(b * t, *videos.shape[2:])
        emb = backbone.encode_images(flat).reshape(b, t, -1)
        for j, i in enumerate(todo):
            out[i] = emb[j]
            _FRAME_CACHE[keys[i]] = emb[j]
            while len(_FRAME_CACHE) > _FRAME_CACHE_SIZE:
                _FRAME_CACHE.popitem(last=False)
    return torch.stack([o for o in out if o is not None])


def clipsim_scores(videos: torch.Tensor, prompts: list[str], backbone: ClipBackbone) -> np.ndarray:
    """CLIPSIM of each video ``[B, T, C, H, W]`` with its prompt -> float64 ``[B]``."""
    validate(videos)
    if len(prompts) != videos.shape[0]:
        raise ValueError(f"CLIPSIM needs one prompt per video: got {len(prompts)} prompts for {videos.shape[0]} videos")
    missing = [i for i, p in enumerate(prompts) if not isinstance(p, str) or not p.strip()]
    if missing:
        raise ValueError(f"CLIPSIM needs a prompt for every video; videos {missing[:5]} have none")
    img = frame_embeddings(backbone, videos)  # [B, T, D]
    txt = backbone.encode_texts(list(prompts))  # [B, D]
    cos = (img.double() * txt.double()[:, None, :]).sum(-1)  # [B, T]
    return cos.mean(dim=1).numpy()


def clipsim(video: torch.Tensor, prompt: str, backbone: ClipBackbone) -> float:
    """CLIPSIM of one uint8 video ``[T, C, H, W]`` with ``prompt``."""
    validate(video, name="video", single=True)
    return float(clipsim_scores(video[None], [prompt], backbone)[0])


def mean_and_sem(x: np.ndarray) -> tuple[float, float | None]:
    """Mean and its standard error over videos (None for one video)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size < 2:
        return float(x.mean()), None
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


class CLIPSIM(Metric):
    """CLIPSIM: mean over frames of CLIP image-text cosine (raw, not x100), averaged over videos."""

    name: ClassVar[str] = "clipsim"
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool] = True
    needs: ClassVar[frozenset[str]] = frozenset({"prompts"})
    # the convention: per-video score = scale x mean cosine; the aggregate clamped at 0 or not
    scale: ClassVar[float] = 1.0
    clamp_at_zero: ClassVar[bool] = False
    score: ClassVar[str] = "mean over frames of raw cosine(image, text), mean over videos (no x100, no clip)"
    config_class: ClassVar[type[MetricConfig]] = ClipConfig
    config: ClipConfig
    columns: ClassVar[tuple[ColumnSpec, ...]] = (ColumnSpec("clipsim", "CLIPSIM", digits=3, group="VBench-lite", order=30),)

    def identity(self, ctx: MetricContext) -> dict[str, Any]:
        return {"clip": clip_backbone_for(self.config, ctx.device).protocol()}

    def per_video(self, videos: torch.Tensor, items: list[Any], ctx: MetricContext) -> dict[str, np.ndarray]:
        backbone = clip_backbone_for(self.config, ctx.device)
        return {self.name: self.scale * clipsim_scores(videos, [it.prompt for it in items], backbone)}

    def aggregate(self, per_video: dict[str, np.ndarray], items: list[Any], ctx: MetricContext) -> list[MetricResult]:
        scores = per_video[self.name]
        if scores.size == 0:
            raise ValueError(f"{self.name} has no videos to aggregate")
        backbone = clip_backbone_for(self.config, ctx.device)
        mean, sem = mean_and_sem(scores)
        protocol = {**backbone.protocol(), "score": self.score, "num_videos": int(scores.size)}
        details: dict[str, Any] = {"std": "standard error of the mean over videos"}
        value = mean
        if self.clamp_at_zero:
            value, details["unclamped_mean"] = max(mean, 0.0), mean
        return [MetricResult(name=self.name, version=self.version, value=value, higher_is_better=True,
                             protocol=protocol, std=sem, details=details)]


class CLIPScore(CLIPSIM):
    """CLIPSIM in torchmetrics' ``CLIPScore`` convention: max(100 x mean cosine over all frames, 0)."""

    name: ClassVar[str] = "clipscore"
    scale: ClassVar[float] = 100.0
    clamp_at_zero: ClassVar[bool] = True
    columns: ClassVar[tuple[ColumnSpec, ...]] = ()  # CLIPSIM's measurement in another convention: not a column
    score: ClassVar[str] = ("torchmetrics CLIPScore: 100 x cosine(image, text) per frame, mean over all frames "
                            "of all videos, clamped at 0 after the mean")
