"""The harness metric ``vbench``: every VBench-lite dimension per video, then one result per
dimension plus Quality, Semantic and Total.

Settings (:class:`VBenchConfig`, in the run spec):
- ``protocol``: ``embedded`` (default; shapes-clip object / masked-background features,
  Farneback flow and interpolation) or ``real`` (DINO ViT-B/16 from ``dino_weights``, CLIP
  ViT-B/32 from ``clip_weights``, RAFT from ``raft_weights``);
- ``amt_weights``: AMT-S weights (VBench's ``amt-s.pth``) for motion smoothness, VBench's
  interpolator (network code from the optional ``vbench`` package); without it motion smoothness
  uses the Farneback midpoint warp, recorded as such (with the shapes-calibrated constants on
  the embedded protocol, VBench's AMT-S constants marked "applied to farneback" on the real one);
- ``clip_backbone`` / ``clip_weights`` / ``clip_quick_gelu``: the CLIP of overall consistency (as CLIPSIM);
- ``shapes_video_weights``: the shapes-video detector for object class (default: shipped);
- ``fps``: frame rate of the videos when no suite says it (dynamic degree samples ~8 fps);
- ``dimensions``: a subset of dimensions to compute.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from vbench_lite.metrics.base import ColumnSpec, Metric, MetricConfig, MetricContext, UnsupportedInput
from vbench_lite.metrics.clip_models import ClipBackbone
from vbench_lite.metrics.vbench import aggregate as agg
from vbench_lite.metrics.vbench import quality, semantic
from vbench_lite.results import MetricResult
from vbench_lite.video import validate

logger = logging.getLogger(__name__)

PROTOCOLS = ("embedded", "real")
_CACHE: dict[tuple[Any, ...], Backbones] = {}


@dataclass(frozen=True)
class VBenchConfig(MetricConfig):
    """VBench-lite's protocol, its networks' local weight files, and the dimensions to compute."""

    protocol: str = "embedded"
    dino_weights: str | None = None
    clip_weights: str | None = None
    raft_weights: str | None = None
    amt_weights: str | None = None
    shapes_video_weights: str | None = None
    clip_backbone: str | None = None
    clip_quick_gelu: bool = True
    fps: float | None = None  # None: the suite's frame rate (8 without a suite)
    dimensions: tuple[str, ...] | None = None  # None: every dimension

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown vbench_protocol {self.protocol!r}; use 'embedded' or 'real'")
        if self.dimensions is not None:
            object.__setattr__(self, "dimensions", tuple(self.dimensions))

    @property
    def clip(self) -> Any:
        from vbench_lite.metrics.clipsim import ClipConfig

        return ClipConfig(backbone=self.clip_backbone, clip_weights=self.clip_weights, quick_gelu=self.clip_quick_gelu)


@dataclass
class Backbones:
    """The networks behind each dimension, with the ids the constants are keyed by."""

    protocol: str
    subject: Any
    background: Any
    flow: Any
    clip: ClipBackbone
    interpolator: Any
    ids: dict[str, str]
    detector: Any = None
    shapes_video_weights: str | None = None

    def describe(self, dimension: str) -> dict[str, Any]:
        if dimension == "subject_consistency":
            return self.subject.protocol()
        if dimension == "background_consistency":
            return self.background.protocol()
        if dimension == "dynamic_degree":
            return self.flow.protocol()
        if dimension == "motion_smoothness":
            return self.interpolator.protocol()
        if dimension == "overall_consistency":
            return {**self.clip.protocol(), "score": "CLIPSIM of the whole caption (VBench uses ViCLIP)"}
        if dimension == "temporal_flickering":
            return {"backbone": "none (raw pixels)"}
        if dimension == "object_class":
            return {"detector": "shapes-video", "weights_sha256": getattr(self.detector, "weights_sha256", None)}
        return {"measurement": "exact, from pixels (solid shapes backgrounds)"}


def backbones_for(config: VBenchConfig, device: str = "cpu") -> Backbones:
    """The networks ``config`` names, loaded once per process."""
    from vbench_lite.metrics.clip_models import load_shapes_clip, load_vit_b_32
    from vbench_lite.metrics.clipsim import clip_backbone_for
    from vbench_lite.metrics.flow import FarnebackFlow, FarnebackInterpolator
    from vbench_lite.metrics.vbench.backbones import (
        AmtInterpolator,
        ClipFrameFeatures,
        DinoFeatures,
        RaftFlow,
    )

    protocol = config.protocol
    key = (config, device)
    if key in _CACHE:
        return _CACHE[key]
    clip = clip_backbone_for(config.clip, device)
    if protocol == "embedded":
        shapes = clip if clip.name == "shapes-clip" else load_shapes_clip(device=device)
        subject, background, flow = (
            ClipFrameFeatures(shapes, "object"), ClipFrameFeatures(shapes, "background"), FarnebackFlow()
        )
    else:
        subject = DinoFeatures(config.dino_weights, device=device)
        vit = clip if clip.name == "vit-b-32" else load_vit_b_32(config.clip_weights, device=device)
        background = ClipFrameFeatures(vit, "full")
        flow = RaftFlow(config.raft_weights, device=device)
    amt = config.amt_weights
    interpolator = AmtInterpolator(amt, device=device) if amt else FarnebackInterpolator()
    ids = {
        "subject_consistency": subject.name,
        "background_consistency": background.name,
        "temporal_flickering": "pixels",
        "motion_smoothness": interpolator.name,
        "dynamic_degree": flow.name,
        "overall_consistency": clip.name,
    } | {d: "detector" for d in ("object_class", "multiple_objects", "color", "spatial_relationship",
                                  "motion_direction")}
    bb = Backbones(protocol, subject, background, flow, clip, interpolator, ids,
                   shapes_video_weights=config.shapes_video_weights)
    _CACHE[key] = bb
    return bb


def _shapes_attributes(attrs: dict[str, Any] | None) -> bool:
    return bool(attrs) and all(k in attrs for k in ("objects", "relation", "direction", "shape"))


def _detector(bb: Backbones, device: str) -> Any:
    if bb.detector is None:
        from vbench_lite.metrics.detectors import load_detector

        try:
            bb.detector = load_detector("shapes-video", bb.shapes_video_weights, device=device)
        except (FileNotFoundError, ImportError, ValueError) as exc:
            raise ValueError(
                f"vbench object_class needs the shapes-video detector ({exc}); train it with "
                "`python -m vbench_lite train --detector shapes-video` or leave object_class out "
                "of the vbench dimensions"
            ) from exc
    return bb.detector


def score_videos(
    videos: torch.Tensor, items: list[Any], bb: Backbones, *, fps: float = 8.0,
    dimensions: tuple[str, ...] = agg.DIMENSIONS, device: str = "cpu",
) -> dict[str, np.ndarray]:
    """Per-video scores of every requested dimension (NaN where a dimension does not apply)."""
    from vbench_lite.metrics.clipsim import clipsim_scores

    validate(videos)
    b, t = videos.shape[:2]
    for d in dimensions:
        if d in quality.MIN_FRAMES:
            if t < quality.MIN_FRAMES[d]:
                raise UnsupportedInput(f"{d} needs at least {quality.MIN_FRAMES[d]} frames, got videos of {t} frame(s)")
    out = {d: np.full(b, np.nan) for d in dimensions}
    flat = videos.reshape(b * t, *videos.shape[2:])
    for d, net in (("subject_consistency", bb.subject), ("background_consistency", bb.background)):
        if d in dimensions:
            feats = net(flat).reshape(b, t, -1)
            out[d] = np.array([quality.consistency_from_features(f) for f in feats])
    for i, v in enumerate(videos):
        if "temporal_flickering" in dimensions:
            out["temporal_flickering"][i] = quality.temporal_flickering(v)
        if "motion_smoothness" in dimensions:
            out["motion_smoothness"][i] = quality.motion_smoothness(v, bb.interpolator)
        if "dynamic_degree" in dimensions:
            out["dynamic_degree"][i] = quality.dynamic_degree(v, bb.flow, fps=fps)
    if "overall_consistency" in dimensions:
        out["overall_consistency"] = clipsim_scores(videos, [it.prompt for it in items], bb.clip)
    gt = [i for i, it in enumerate(items) if _shapes_attributes(getattr(it, "attributes", None))]
    if gt:
        measured = ("color", "multiple_objects", "spatial_relationship", "motion_direction")
        if any(d in dimensions for d in measured):
            for i in gt:
                for d, s in semantic.measured_scores(videos[i], items[i].attributes).items():
                    if d in dimensions:
                        out[d][i] = s
        if "object_class" in dimensions:
            shapes = semantic.detector_shapes(_detector(bb, device), videos[gt])
            for i, shape in zip(gt, shapes):
                out["object_class"][i] = semantic.object_class(shape, items[i].attributes)
    return out


class VBenchLite(Metric):
    """VBench-lite: VBench's quality and semantic dimensions, Quality, Semantic and Total scores."""

    name: ClassVar[str] = "vbench"
    version: ClassVar[str] = "1"
    higher_is_better: ClassVar[bool] = True
    needs: ClassVar[frozenset[str]] = frozenset({"prompts"})
    config_class: ClassVar[type[MetricConfig]] = VBenchConfig
    config: VBenchConfig
    columns: ClassVar[tuple[ColumnSpec, ...]] = (
        ColumnSpec("vbench_quality", "Quality", digits=3, group="VBench-lite", short="Qual.", order=40),
        ColumnSpec("vbench_semantic", "Semantic", digits=3, group="VBench-lite", short="Sem.", order=41),
        ColumnSpec("vbench_total", "Total", digits=3, group="VBench-lite", order=42),
    )

    def _dimensions(self, ctx: MetricContext) -> tuple[str, ...]:
        dims = tuple(self.config.dimensions or agg.DIMENSIONS)
        unknown = [d for d in dims if d not in agg.DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown vbench dimension(s) {unknown}; known: {', '.join(agg.DIMENSIONS)}")
        return dims

    def identity(self, ctx: MetricContext) -> dict[str, Any]:
        bb = backbones_for(self.config, ctx.device)
        nets = {d: bb.describe(d) for d in ("subject_consistency", "background_consistency", "dynamic_degree",
                                            "motion_smoothness", "overall_consistency")}
        try:
            detector = _detector(bb, ctx.device).weights_sha256
        except ValueError:
            detector = None  # not installed: object_class is left out (or an error when asked for)
        return {"networks": nets, "object_class_detector_sha256": detector}

    def per_video(self, videos: torch.Tensor, items: list[Any], ctx: MetricContext) -> dict[str, np.ndarray]:
        bb = backbones_for(self.config, ctx.device)
        fps = float(self.config.fps or (ctx.suite.fps if ctx.suite is not None else 8))
        dims = self._dimensions(ctx)
        if "object_class" in dims and not self.config.dimensions:
            # By default object class is measured when the shapes-video detector is installed;
            # without it the dimension is left out (NaN, reported as absent), never scored 0.
            # Asking for it explicitly makes a missing detector an error.
            try:
                _detector(bb, ctx.device)
            except ValueError as exc:
                logger.warning("vbench: leaving object_class out: %s", exc)
                out = score_videos(videos, items, bb, fps=fps, device=ctx.device,
                                   dimensions=tuple(d for d in dims if d != "object_class"))
                out["object_class"] = np.full(videos.shape[0], np.nan)
                return out
        return score_videos(videos, items, bb, fps=fps, dimensions=dims, device=ctx.device)

    def aggregate(self, per_video: dict[str, np.ndarray], items: list[Any], ctx: MetricContext) -> list[MetricResult]:
        from vbench_lite.metrics.clipsim import mean_and_sem

        bb = backbones_for(self.config, ctx.device)
        calibrated = agg.load_calibrated() if bb.protocol == "embedded" else {}
        results, means, constants, warnings = [], {}, {}, []
        for d, cal in calibrated.get("dimensions", {}).items():
            net = {"subject_consistency": bb.subject, "background_consistency": bb.background}.get(d)
            sha = getattr(getattr(net, "clip", None), "weights_sha256", None) if net else (
                bb.clip.weights_sha256 if d == "overall_consistency" else None)
            if sha and cal.get("weights_sha256") and cal["weights_sha256"] != sha and cal.get("backbone") == bb.ids[d]:
                warnings.append(f"{d}: calibrated constants were measured with other {bb.ids[d]} weights; "
                                "re-run python -m vbench_lite.metrics.vbench.calibrate")
        for d in self._dimensions(ctx):
            x = np.asarray(per_video[d], dtype=np.float64)
            x = x[np.isfinite(x)]
            if x.size == 0:
                why = "the shapes-video detector, or " if d == "object_class" else ""
                warnings.append(f"{d}: no video has the inputs it needs ({why}ground-truth attributes); left out")
                continue
            if d == "object_class":
                _detector(bb, ctx.device)  # its identity is recorded even when every score came from the cache
            const = agg.constant_for(d, bb.ids[d], calibrated)
            if d == "motion_smoothness" and bb.protocol == "real" and bb.ids[d] != "amt-s":
                warnings.append(f"motion_smoothness: interpolated with {bb.ids[d]}, not VBench's AMT-S "
                                "(pass amt_weights); VBench's constants applied to it")
            mean, sem = mean_and_sem(x)
            means[d], constants[d] = mean, const
            protocol = {"suite": "VBench-lite", "vbench_protocol": bb.protocol, **bb.describe(d),
                        "constants": const.to_dict(), "num_videos": int(x.size)}
            results.append(MetricResult(
                name=f"vbench_{d}", version=self.version, value=mean, higher_is_better=True,
                protocol=protocol, std=sem, details={"normalised": const.normalise(mean)},
            ))
        scores = agg.aggregate_dimensions(means, constants)
        shared = {
            "suite": "VBench-lite",
            "vbench_protocol": bb.protocol,
            "formula": "VBench cal_final_score: min-max normalised, weighted; Total = (4 Quality + Semantic) / 5",
            "weights": {d: agg.DIM_WEIGHT[d] for d in means},
            "constants": {d: c.to_dict() for d, c in constants.items()},
            "backbones": {d: bb.ids[d] for d in means},
            "num_videos": len(items),
        }
        for part in ("quality", "semantic", "total"):
            dims = {"quality": agg.QUALITY_DIMENSIONS, "semantic": agg.SEMANTIC_DIMENSIONS}.get(part, agg.DIMENSIONS)
            value = scores[part]
            present = [d for d in dims if d in means]
            note = {"total": "VBench-lite Total over the dimensions listed (motion_direction is VBench-lite's "
                             "own), not VBench's 16-dimension Total"}.get(part)
            results.append(MetricResult(
                name=f"vbench_{part}", version=self.version, value=value, higher_is_better=True,
                protocol={**shared, "dimensions": present, **({"note": note} if note else {})},
                warnings=list(warnings) + ([] if value is not None else [f"{part}: no dimension of it could be computed"]),
            ))
        if warnings:
            logger.warning("vbench: %s", "; ".join(warnings))
        return results


def summary(results: list[MetricResult]) -> dict[str, float | None]:
    """``{result name: value}`` of a list of results (handy in scripts and benchmarks)."""
    return {r.name: (None if r.value is None or math.isnan(r.value) else r.value) for r in results}
