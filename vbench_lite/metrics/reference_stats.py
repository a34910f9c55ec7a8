"""Reference statistics for FVD/KVD: features of real videos, cached and keyed by the full protocol.

A cache file (``.npz`` under ``cache_dir("reference_stats")``) holds the reference features (KVD
needs them), their float64 mean and covariance, and the protocol JSON it was computed under:
the source (suite name, version, split, offset, N; or a folder), the content SHA-256 of the
videos, the detector protocol (name, weights SHA-256, preprocessing, frames), the resolution and
the covariance convention. The file name is a hash of that protocol, and on load the stored
protocol must equal the expected one exactly; anything else is recomputed, so a stale or
mismatched file is never used (torch-fidelity keys by a user-chosen name only; clean-fid puts
the mode in the name: we key by everything). The file is written with its SHA-256 and verified on
every read (``fsutil.read_cache_bytes``): a corrupt or truncated file is recomputed with a warning.

For a suite, rendering all reference videos just to look up their hash would cost more than the
lookup saves, so the key holds the suite version plus the SHA-256 of the first ``PROBE`` rendered
videos (a renderer change shows there); the full content SHA-256, computed while the statistics
are computed, is stored in the file and recorded in every FVD/KVD result's ``fingerprint`` (what
was obtained, never part of the metric's protocol: issue 18). For a folder the key holds the
SHA-256 of every file (:mod:`.reference_videos`: the user's folders and statistics files).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vbench_lite.fsutil import cache_dir, read_cache_bytes, write_cache_bytes
from vbench_lite.metrics.frechet import COVARIANCE_DESCRIPTIONS, gaussian_statistics

logger = logging.getLogger(__name__)

FORMAT = "vbench_lite.reference_stats/1"
RENDER_CHUNK = 256
PROBE = 16


@dataclass
class ReferenceStats:
    """Real-video features ``[N, D]`` (float32, index order), their mean/covariance, the protocol.

    ``features`` is None for a bare mean/covariance file (:mod:`.reference_videos`); ``num`` is then
    the count the file states, if any."""

    features: np.ndarray | None
    mu: np.ndarray
    sigma: np.ndarray
    protocol: dict[str, Any]
    path: Path | None = None

    @property
    def num(self) -> int | None:
        if self.features is None:
            return self.protocol.get("num")
        return int(self.features.shape[0])


def protocol_key(protocol: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(protocol, sort_keys=True).encode()).hexdigest()


def _cache_path(protocol: dict[str, Any]) -> Path:
    src = protocol["source"]
    tag = f"{src.get('suite', 'folder')}-{src.get('split', 'videos')}-{protocol['detector']['detector']}"
    return cache_dir("reference_stats") / f"{tag}-{protocol_key(protocol)[:20]}.npz"


def load_cached(protocol: dict[str, Any]) -> ReferenceStats | None:
    """The cached statistics for exactly ``protocol``, or None (absent, unreadable or mismatched)."""
    path = _cache_path(protocol)
    data = read_cache_bytes(path)  # None (with a warning) for a corrupt, truncated or unverified file
    if data is None:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            stored = json.loads(str(z["protocol"]))
            if stored != protocol or str(z["format"]) != FORMAT:
                logger.warning("ignoring %s: its protocol differs from the requested one", path)
                return None
            full = {**stored, "content_sha256": str(z["content_sha256"])}
            return ReferenceStats(z["features"], z["mu"], z["sigma"], full, path)
    except Exception as exc:  # anything unreadable is recomputed (BadZipFile, EOFError, ...), never fatal
        logger.warning("ignoring unreadable reference statistics %s (%s); recomputing", path, exc)
        return None


def compute_and_cache(
    protocol: dict[str, Any], chunks: Callable[[], Iterator[torch.Tensor]], detector: Any
) -> ReferenceStats:
    """Features of every chunk of videos (index order) -> statistics, written atomically."""
    h = hashlib.sha256()
    parts = []
    for v in chunks():
        h.update(v.numpy().tobytes())
        parts.append(detector.features(v).numpy())
    feats = np.concatenate(parts).astype(np.float32)
    if feats.shape[0] != protocol["num"]:
        raise ValueError(f"expected {protocol['num']} reference videos, got {feats.shape[0]}")
    mu, sigma = gaussian_statistics(feats, protocol["covariance"])
    content = protocol.get("content_sha256") or h.hexdigest()
    buf = io.BytesIO()
    np.savez(buf, format=np.array(FORMAT), protocol=np.array(json.dumps(protocol, sort_keys=True)),
             content_sha256=np.array(content), features=feats, mu=mu, sigma=sigma)
    path = write_cache_bytes(_cache_path(protocol), buf.getvalue())
    logger.info("wrote reference statistics %s (%d videos, %d-d)", path, *feats.shape)
    return ReferenceStats(feats, mu, sigma, {**protocol, "content_sha256": content}, path)


def _base_protocol(detector: Any, covariance: str | None) -> dict[str, Any]:
    covariance = covariance or getattr(detector, "covariance", "unbiased")
    if covariance not in COVARIANCE_DESCRIPTIONS:
        raise ValueError(
            f"unknown covariance convention {covariance!r}; use one of {', '.join(COVARIANCE_DESCRIPTIONS)}"
        )
    return {"format": FORMAT, "detector": detector.protocol(), "covariance": covariance}


def suite_reference_stats(
    suite: Any,
    detector: Any,
    *,
    num: int | None = None,
    offset: int = 0,
    resolution: int | None = None,
    covariance: str | None = None,
    recompute: bool = False,
) -> ReferenceStats:
    """Statistics of the suite's ``reference`` split (rendered real videos) under ``detector``;
    ``covariance=None``: the detector's convention (``FeatureDetector.covariance``)."""
    items = suite.items("reference", num, offset)
    res = resolution or suite.resolution
    frames = detector.num_frames

    def chunks() -> Iterator[torch.Tensor]:
        for i in range(0, len(items), RENDER_CHUNK):
            yield suite.render(items[i : i + RENDER_CHUNK], resolution=res, frames=frames)

    # Key: suite version + hash of the first rendered videos (see the module docstring); the
    # full content hash is computed with the features and stored in the file.
    probe = suite.render(items[:PROBE], resolution=res, frames=frames)
    protocol = {
        **_base_protocol(detector, covariance),
        "source": {"kind": "suite", "suite": suite.name, "version": str(suite.version),
                   "split": "reference", "offset": offset},
        "probe_sha256": hashlib.sha256(probe.numpy().tobytes()).hexdigest(),
        "num": len(items),
        "resolution": res,
        "frames": frames,
    }
    if not recompute and (hit := load_cached(protocol)) is not None:
        return hit
    return compute_and_cache(protocol, chunks, detector)
