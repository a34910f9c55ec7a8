"""Distribution metrics FVD and KVD: torchmetrics-style accumulators and the harness metrics.

Exactness rules (so batch size, order and sharding leave every digit unchanged):
- detectors return bit-identical features per video whatever batch it arrived in (fixed-size
  chunks, ``detectors/base.py``);
- the harness keeps features by video index and reduces once in index order;
- the accumulators, which have no index, sort feature rows into a canonical (lexicographic)
  order before reducing, so the order of ``update`` calls cannot change a floating-point sum.

Settings (:class:`FVDConfig`, :class:`KVDConfig`, in the run spec; all recorded in the protocol):
``detector`` (default: the suite's ``default_detector``: ``shapes-video`` on the shapes suite,
``i3d`` elsewhere), ``detector_weights`` (a local file), ``covariance`` (``unbiased`` or
``stylegan-v``; default: the detector's reference convention, ``FeatureDetector.covariance``:
StyleGAN-V's for ``i3d``), ``reference_num`` (reference videos used, default the whole split),
``reference_videos`` (a folder of real videos instead of the suite's reference split,
``--reference DIR``) read by ``reference_frame_sampling`` (``first``, ``middle`` or ``stride:K``;
default ``first``), ``reference_stats`` (a statistics file, ``--reference-stats FILE``; a bare
mean/covariance file with ``reference_stats_protocol``), FVD's ``bootstrap`` (resamples, default
100; 0 disables), KVD's ``subsets`` / ``subset_size`` (default 100 / 1000).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from vbench_lite.metrics.base import ColumnSpec, Metric, MetricConfig, MetricContext, UnsupportedInput
from vbench_lite.metrics.frechet import (
    COVARIANCE_DESCRIPTIONS,
    check_features,
    frechet_distance,
    gaussian_statistics,
    sample_warnings,
)
from vbench_lite.metrics.kernel import DEFAULT_SUBSET_SIZE, DEFAULT_SUBSETS, kernel_distance
from vbench_lite.results import MetricResult

logger = logging.getLogger(__name__)

BOOTSTRAP_RESAMPLES = 100


@dataclass(frozen=True)
class DistributionConfig(MetricConfig):
    """The feature detector and the reference FVD and KVD compare against."""

    detector: str | None = None  # None: the suite's default detector
    detector_weights: str | None = None  # a local weights file (i3d: StyleGAN-V's i3d_torchscript.pt)
    covariance: str | None = None  # None: the detector's reference convention
    reference_num: int | None = None  # None: the suite's whole reference split
    reference_videos: str | None = None  # a folder of real videos instead of the suite's reference split
    reference_frame_sampling: str | None = None  # first | middle | stride:K, of each reference video
    reference_stats: str | None = None  # a reference statistics file (stats --videos DIR --out FILE)
    reference_stats_protocol: str | None = None  # the protocol of a bare mean/covariance statistics file

    def __post_init__(self) -> None:
        if self.reference_num is not None and self.reference_num < 2:
            raise ValueError(f"reference_num must be at least 2, got {self.reference_num}")
        if self.covariance not in (None, "unbiased", "stylegan-v"):
            raise ValueError(f"unknown covariance {self.covariance!r}; use unbiased or stylegan-v")


@dataclass(frozen=True)
class FVDConfig(DistributionConfig):
    bootstrap: int = BOOTSTRAP_RESAMPLES  # resamples of the bootstrap std; 0: none

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bootstrap < 0:
            raise ValueError(f"bootstrap must be >= 0, got {self.bootstrap}")


@dataclass(frozen=True)
class KVDConfig(DistributionConfig):
    subsets: int = DEFAULT_SUBSETS
    subset_size: int = DEFAULT_SUBSET_SIZE

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.subsets < 1 or self.subset_size < 2:
            raise ValueError(f"KVD needs subsets >= 1 and subset_size >= 2, got {self.subsets} and {self.subset_size}")
BOOTSTRAP_SEED = 0


def canonical_order(feats: np.ndarray) -> np.ndarray:
    """Rows sorted lexicographically: a permutation-invariant order for exact reductions."""
    return feats[np.lexsort(feats.T[::-1])] if len(feats) else feats


class _FeatureAccumulator:
    """Features of real and generated videos, accumulated over ``update`` calls."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.reset()

    def reset(self) -> None:
        self._feats: dict[bool, list[np.ndarray]] = {True: [], False: []}

    def update(self, videos: torch.Tensor, real: bool) -> None:
        self._feats[bool(real)].append(self.detector.features(videos).numpy())

    def _side(self, real: bool) -> np.ndarray:
        parts = self._feats[real]
        if not parts:
            side = "real" if real else "generated"
            raise ValueError(f"no {side} videos: call update(videos, real={real}) first")
        return canonical_order(np.concatenate(parts).astype(np.float64))


class FrechetVideoDistance(_FeatureAccumulator):
    """FVD as a torchmetrics-style accumulator: ``update(videos, real=...)``, ``compute()``, ``reset()``."""

    def __init__(self, detector: Any, covariance: str | None = None) -> None:
        super().__init__(detector)
        self.covariance = covariance or getattr(detector, "covariance", "unbiased")

    def compute(self) -> float:
        real, fake = self._side(True), self._side(False)
        return frechet_distance(*gaussian_statistics(real, self.covariance), *gaussian_statistics(fake, self.covariance))


class KernelVideoDistance(_FeatureAccumulator):
    """KVD as a torchmetrics-style accumulator; ``compute()`` -> (mean, std) over random subsets."""

    def __init__(self, detector: Any, subsets: int = DEFAULT_SUBSETS, subset_size: int = DEFAULT_SUBSET_SIZE,
                 seed: int = 0) -> None:
        super().__init__(detector)
        self.subsets, self.subset_size, self.seed = subsets, subset_size, seed

    def compute(self) -> tuple[float, float]:
        return kernel_distance(self._side(False), self._side(True), self.subsets, self.subset_size, self.seed)


# -- harness metrics ----------------------------------------------------------------------------------
def bootstrap_fvd(
    feats: np.ndarray, ref_mu: np.ndarray, ref_sigma: np.ndarray, covariance: str,
    resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Mean and std of FVD over resamples (with replacement) of the generated set, fixed seed."""
    rng = np.random.default_rng(seed)
    vals = [
        frechet_distance(*gaussian_statistics(feats[rng.integers(0, len(feats), len(feats))], covariance),
                         ref_mu, ref_sigma)
        for _ in range(resamples)
    ]
    return float(np.mean(vals)), float(np.std(vals))


def noise_floor(suite_name: str, detector_protocol: dict[str, Any]) -> dict[str, Any] | None:
    """The shipped noise floor of the suite, if it was measured under this detector protocol."""
    path = Path(__file__).resolve().parents[1] / "assets" / f"noise_floor_{suite_name}.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("protocol", {}).get("detector") != detector_protocol:
        return None
    return data


def reference_identity(ref_protocol: dict[str, Any]) -> dict[str, Any]:
    """What reference set was asked for, without anything machine-specific.

    A suite's reference is its name, version, split and offset (the videos are rendered, and their
    content hash is a fingerprint). A folder's reference is the content the user gave (the SHA-256
    of its files); where the folder lies on this machine is a fingerprint.
    """
    src = dict(ref_protocol["source"])
    if src.get("kind") in ("folder", "stats-file"):  # a statistics file of a folder is that folder
        src.pop("path", None)
        src["content_sha256"] = ref_protocol["content_sha256"]
    return src


def reference_fingerprint(ref: Any) -> dict[str, Any]:
    """What the reference came out as: content hashes of its videos and of its features."""
    computed = ref.features if ref.features is not None else np.concatenate([ref.mu.ravel(), ref.sigma.ravel()])
    out = {
        "reference_sha256": ref.protocol["content_sha256"],
        "reference_features_sha256": hashlib.sha256(
            np.ascontiguousarray(computed, dtype=np.float32).tobytes()
        ).hexdigest(),
    }
    if ref.protocol["source"].get("path"):
        out["reference_path"] = ref.protocol["source"]["path"]
    return out


class _DistributionMetric(Metric):
    higher_is_better: ClassVar[bool] = False
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    config_class: ClassVar[type[MetricConfig]] = DistributionConfig
    config: DistributionConfig

    def __init__(self, config: MetricConfig | None = None) -> None:
        super().__init__(config)
        self._detectors: dict[tuple[str, str | None, str], Any] = {}

    def detector_name(self, ctx: MetricContext) -> str:
        """The configured detector, else the one the suite declares (StyleGAN-V's I3D without a suite)."""
        from vbench_lite.suites.base import Suite

        return self.config.detector or (ctx.suite if ctx.suite is not None else Suite).default_detector

    def detector(self, ctx: MetricContext) -> Any:
        from vbench_lite.metrics.detectors import load_detector

        name = self.detector_name(ctx)
        weights = self.config.detector_weights
        key = (name, weights, ctx.device)
        if key not in self._detectors:
            self._detectors[key] = load_detector(name, weights=weights, device=ctx.device)
        return self._detectors[key]

    def identity(self, ctx: MetricContext) -> dict[str, Any]:
        self.check_reference(ctx)  # no real videos to compare with: unsupported, before any detector loads
        return {"detector": self.detector(ctx).protocol()}  # name, weights SHA-256, preprocessing, frames

    def per_video(self, videos: torch.Tensor, items: list, ctx: MetricContext) -> dict[str, np.ndarray]:
        self.check_reference(ctx)  # before any detector is loaded: a skip, not a missing-weights error
        return {"features": self.detector(ctx).features(videos).numpy()}

    def prepare(self, ctx: MetricContext) -> None:
        """The reference statistics, loaded (a statistics file checked against this run's protocol, a
        folder probed and its features cached) before any video is generated."""
        self.reference(ctx)

    def check_reference(self, ctx: MetricContext) -> None:
        """Real videos to compare against exist: the user's (folder or statistics file) or the suite's
        reference split. A prompt list has none: the metric is then unsupported (skipped with this
        reason when not asked for by name), never 0."""
        if self.config.reference_videos or self.config.reference_stats:
            return
        if ctx.suite is None or not ctx.suite.has_reference:
            where = f"suite {ctx.suite.name!r} has no reference split" if ctx.suite is not None else "no suite is given"
            raise UnsupportedInput(
                f"{self.name} needs real reference videos and {where}: give a folder of real videos with "
                "--reference DIR or their statistics with --reference-stats FILE"
            )

    def reference(self, ctx: MetricContext) -> Any:
        from vbench_lite.metrics.reference_stats import suite_reference_stats
        from vbench_lite.metrics.reference_videos import folder_reference_stats, load_stats_file

        self.check_reference(ctx)
        det = self.detector(ctx)
        asked_cov = self.config.covariance
        cov = asked_cov or getattr(det, "covariance", "unbiased")
        sampling = self.config.reference_frame_sampling
        if self.config.reference_stats:
            return load_stats_file(self.config.reference_stats, det, sampling=sampling, covariance=asked_cov,
                                   declared_protocol=self.config.reference_stats_protocol)
        if self.config.reference_videos:
            return folder_reference_stats(self.config.reference_videos, det, sampling=sampling or "first",
                                          covariance=cov)
        return suite_reference_stats(ctx.suite, det, num=self.config.reference_num, covariance=cov,
                                     resolution=ctx.resolution)

    def _setup(
        self, per_video: dict[str, np.ndarray], ctx: MetricContext
    ) -> tuple[Any, np.ndarray, Any, dict, dict]:
        if "features" not in per_video:
            raise ValueError(f"{self.name}: per-video arrays lack 'features'; run per_video first")
        det = self.detector(ctx)
        feats = check_features(per_video["features"], name=f"{self.name} generated features")
        ref = self.reference(ctx)
        if feats.shape[1] != ref.mu.shape[0]:
            raise ValueError(
                f"feature dimensions differ: generated {feats.shape[1]}-d, reference {ref.mu.shape[0]}-d"
            )
        protocol = {
            **det.protocol(),
            "resolution": {"reference": ref.protocol["resolution"], "detector_input": self._input_size(det)},
            "num_generated": int(feats.shape[0]),
            "num_reference": ref.num,
            "covariance": ref.protocol["covariance"],
            "reference_source": reference_identity(ref.protocol),
        }
        return det, feats, ref, protocol, reference_fingerprint(ref)

    @staticmethod
    def _input_size(det: Any) -> int | str:
        size = getattr(det, "input_size", None)  # declared by the detector (FeatureDetector.input_size)
        return "detector-defined" if size is None else size


class FVD(_DistributionMetric):
    """Frechet Video Distance to the suite's reference statistics, with a bootstrap std."""

    name: ClassVar[str] = "fvd"
    version: ClassVar[str] = "1"
    config_class: ClassVar[type[MetricConfig]] = FVDConfig
    config: FVDConfig
    columns: ClassVar[tuple[ColumnSpec, ...]] = (
        ColumnSpec("fvd", "FVD", digits=1, show_std=True, group="Distribution", order=10),)

    def aggregate(self, per_video: dict[str, np.ndarray], items: list, ctx: MetricContext) -> list[MetricResult]:
        det, feats, ref, protocol, fingerprint = self._setup(per_video, ctx)
        cov = protocol["covariance"]
        value = frechet_distance(*gaussian_statistics(feats, cov), ref.mu, ref.sigma)
        resamples = self.config.bootstrap
        protocol["covariance_description"] = COVARIANCE_DESCRIPTIONS[cov]
        details: dict[str, Any] = {"bootstrap_resamples": resamples, "bootstrap_seed": BOOTSTRAP_SEED,
                                   "covariance_chosen_by": "option" if self.config.covariance
                                   else f"the {det.name} detector's reference convention"}
        std = None
        if resamples > 0:
            details["bootstrap_mean"], std = bootstrap_fvd(feats, ref.mu, ref.sigma, cov, resamples)
            details["bootstrap_std"] = std
        floor = noise_floor(getattr(ctx.suite, "name", ""), det.protocol())
        if floor:
            details["noise_floor"] = floor["fvd"]
        warnings = sample_warnings(len(feats), feats.shape[1], name="generated features")
        if ref.num is not None:
            warnings += sample_warnings(ref.num, feats.shape[1], name="reference features")
        return [MetricResult(self.name, self.version, value, self.higher_is_better, protocol, std, details, warnings,
                             fingerprint)]


class KVD(_DistributionMetric):
    """Kernel Video Distance (unbiased polynomial MMD^2) to the reference features, mean and std."""

    name: ClassVar[str] = "kvd"
    version: ClassVar[str] = "1"
    config_class: ClassVar[type[MetricConfig]] = KVDConfig
    config: KVDConfig
    columns: ClassVar[tuple[ColumnSpec, ...]] = (
        ColumnSpec("kvd", "KVD", show_std=True, rescale=True, group="Distribution", order=20),)

    def aggregate(self, per_video: dict[str, np.ndarray], items: list, ctx: MetricContext) -> list[MetricResult]:
        det, feats, ref, protocol, fingerprint = self._setup(per_video, ctx)
        subsets, size = self.config.subsets, self.config.subset_size
        from vbench_lite.metrics.reference_videos import require_features

        mean, std = kernel_distance(feats, require_features(ref, self.name).astype(np.float64), subsets, size, seed=0)
        protocol.pop("covariance")
        protocol["kernel"] = "polynomial (x.y/d + 1)^3, unbiased MMD^2 (KID)"
        protocol["subsets"] = subsets
        protocol["subset_size"] = min(size, len(feats), ref.num)
        details: dict[str, Any] = {"seed": 0}
        floor = noise_floor(getattr(ctx.suite, "name", ""), det.protocol())
        if floor:
            details["noise_floor"] = floor["kvd"]
        return [MetricResult(self.name, self.version, mean, self.higher_is_better, protocol, std, details, [],
                             fingerprint)]
