"""A third-party plugin used by the pipeline tests: a tiny method and a tiny metric.

Found through ``toy_plugin-1.0.dist-info/entry_points.txt`` when this folder is on sys.path,
exactly as an installed plugin would be.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vbench_lite.method import MethodAdapter
from vbench_lite.metrics.base import Metric
from vbench_lite.profile import stage
from vbench_lite.results import MetricResult


class ToyMethod(MethodAdapter):
    """Seeded noise videos: each video depends only on its (prompt, seed)."""

    name = "toy"
    version = "1"
    variants = {"dark": "the same noise at half brightness"}

    def load(self, device: str = "cpu") -> None:
        self.device = device
        self.calls = 0

    def generate(self, prompts, seeds, spec):  # type: ignore[no-untyped-def]
        if len(prompts) != len(seeds) or not prompts:
            raise ValueError("prompts and seeds must be non-empty and of equal length")
        self.calls += 1
        out = []
        with stage("denoise"):
            for p, s in zip(prompts, seeds):
                g = torch.Generator().manual_seed(int(s) * 7919 + len(p))
                v = torch.randint(0, 256, (spec.frames, 3, spec.resolution, spec.resolution), generator=g)
                if self.variant == "dark":
                    v = v // 2
                out.append(v.to(torch.uint8))
        return torch.stack(out)

    def describe(self):  # type: ignore[no-untyped-def]
        return {"params": 0, "steps": 0, "nfe": 0, "weights_sha256": None}

    # Where the toy's "shipped weights" live; the train tests point it at a temporary folder.
    SHIPPED = Path(__file__).resolve().parent / "weights"

    @classmethod
    def train(cls, steps: int = 10, seed: int = 0, out=None, run_dir=None, time_budget_s=None):  # type: ignore[no-untyped-def]
        """A stand-in recipe with the built-in recipes' contract: writes its weights to ``out``
        (default: the shipped location) and returns a summary naming them."""
        dest = Path(out) if out else cls.SHIPPED
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "model.txt").write_text(f"toy weights: {steps} steps, seed {seed}\n")
        return {"weights": str(dest), "steps": steps}


class ToyMeanMetric(Metric):
    """Mean brightness per video; the aggregate is the mean over videos."""

    name = "toy-mean"
    version = "1"
    higher_is_better = True

    def per_video(self, videos, items, ctx):  # type: ignore[no-untyped-def]
        x = videos.float() / 255.0
        return {"toy-mean": x.mean(dim=(1, 2, 3, 4)).double().numpy(),
                "features": x.mean(dim=(3, 4)).flatten(1).double().numpy()}

    def aggregate(self, per_video, items, ctx):  # type: ignore[no-untyped-def]
        feats = per_video["features"]
        return [
            MetricResult("toy-mean", self.version, float(np.mean(per_video["toy-mean"])), True,
                         {"reduction": "mean over videos"}),
            MetricResult("toy-spread", self.version, float(np.linalg.norm(np.cov(feats.T))), False, {}),
        ]
