"""The registry instances of the harness and the built-in entries they start with.

Built-in methods come in through the ``vbench_lite.methods`` entry-point group (declared in
``pyproject.toml``), exactly like a third-party plugin. Built-in suites, metrics and detectors are
registered here as lazy ``"module:attr"`` targets, so listing them imports nothing heavy; plugins
of those kinds come through their own entry-point groups. Every registry checks its entries' base
class (given lazily too): a metric is a :class:`~vbench_lite.metrics.base.Metric`, a detector a
:class:`~vbench_lite.metrics.detectors.base.FeatureDetector` (video features for FVD/KVD), a CLIP
backbone a :class:`~vbench_lite.metrics.clip_models.ClipModel` (image-text embeddings for CLIPSIM
and VBench), each kind in its own registry.
"""

from __future__ import annotations

from typing import Any

from vbench_lite.method import MethodAdapter
from vbench_lite.registry import Registry
from vbench_lite.suites.base import Suite

METHODS: Registry[MethodAdapter] = Registry("method", MethodAdapter, group="vbench_lite.methods")
SUITES: Registry[Suite] = Registry("suite", Suite, group="vbench_lite.suites")
METRICS: Registry[Any] = Registry("metric", "vbench_lite.metrics.base:Metric", group="vbench_lite.metrics")
DETECTORS: Registry[Any] = Registry("detector", "vbench_lite.metrics.detectors.base:FeatureDetector",
                                    group="vbench_lite.detectors")
CLIP_BACKBONES: Registry[Any] = Registry("clip backbone", "vbench_lite.metrics.clip_models:ClipModel",
                                         group="vbench_lite.clip_backbones")

SUITES.register(
    "shapes",
    "vbench_lite.suites.shapes:ShapesSuite",
    description="Procedural coloured shapes moving on plain backgrounds, with ground-truth attributes.",
)
SUITES.register(
    "prompts",
    "vbench_lite.suites.prompts:PromptListSuite",
    description="A prompt list (prompts:FILE, text or VBench JSON), N samples per prompt; no reference videos.",
)

DETECTORS.register(
    "shapes-video",
    "vbench_lite.metrics.detectors.shapes_video:ShapesVideoDetector",
    description="Embedded 3D-conv shapes classifier; 128-d penultimate features (shapes-suite FVD).",
)
DETECTORS.register(
    "i3d",
    "vbench_lite.metrics.detectors.i3d:I3DDetector",
    description="StyleGAN-V I3D TorchScript (Kinetics-400), 400-d features, 16 frames (real FVD).",
)
METRICS.register(
    "fvd",
    "vbench_lite.metrics.distribution:FVD",
    description="Frechet Video Distance to the suite's reference statistics (lower is better).",
)
METRICS.register(
    "kvd",
    "vbench_lite.metrics.distribution:KVD",
    description="Kernel Video Distance: unbiased polynomial MMD^2 to the reference (lower is better).",
)
CLIP_BACKBONES.register(
    "shapes-clip",
    "vbench_lite.metrics.clip_models:ShapesClip",
    description="Embedded open_clip model (small ViT, 32 px) trained on shapes frames and captions.",
)
CLIP_BACKBONES.register(
    "vit-b-32",
    "vbench_lite.metrics.clip_models:ViTB32",
    description="open_clip ViT-B-32 from a local weights file (real CLIPSIM protocol).",
)
METRICS.register(
    "clipsim",
    "vbench_lite.metrics.clipsim:CLIPSIM",
    description="CLIPSIM: mean over frames of raw CLIP image-text cosine (higher is better).",
)
METRICS.register(
    "clipscore",
    "vbench_lite.metrics.clipsim:CLIPScore",
    description="CLIPSIM in torchmetrics' CLIPScore convention: max(100 x mean cosine, 0) (higher is better).",
)
METRICS.register(
    "vbench",
    "vbench_lite.metrics.vbench.metric:VBenchLite",
    description="VBench-lite quality and semantic dimensions with Quality, Semantic and Total.",
)
METRICS.register(
    "fidelity",
    "vbench_lite.metrics.fidelity:Fidelity",
    description="PSNR / SSIM (/ LPIPS) per frame against the baseline's video of the same seed.",
)

ALL: dict[str, Registry[Any]] = {
    "methods": METHODS,
    "metrics": METRICS,
    "detectors": DETECTORS,
    "clip-backbones": CLIP_BACKBONES,
    "suites": SUITES,
}
