"""Scoring: per-video metric work on canonical micro-batches, one reduction in index order.

Per-video arrays are cached by content: the metric's identity (name, version, the fingerprint of
its code, its config, the SHA-256 of the weight files the config names, and the protocols of the
networks it runs, :meth:`Metric.identity`) and the batch's prompts, seeds and video bytes, so a
repeated run recomputes nothing but the cheap reductions. The
reduction always sees every video's arrays concatenated in index order, whatever the batch size,
sharding or world size.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from vbench_lite import __version__
from vbench_lite.fingerprint import source_fingerprint
from vbench_lite.fsutil import cache_dir, read_cache_bytes, sha256_file, write_cache_bytes
from vbench_lite.metrics.base import Metric, MetricContext, UnsupportedInput
from vbench_lite.pipeline.distributed import Dist
from vbench_lite.pipeline.generation import micro_batches
from vbench_lite.results import MetricResult
from vbench_lite.spec import canonical_json, sha256_text
from vbench_lite.suites.base import VideoItem

logger = logging.getLogger(__name__)


@functools.cache
def _file_sha(path: str, size: int, mtime_ns: int) -> str:  # size and mtime: re-hash a changed file
    return sha256_file(path)


def _sha(path: Path) -> str:
    st = path.stat()
    return _file_sha(str(path.resolve()), st.st_size, st.st_mtime_ns)


def metric_identity(metric: Metric, ctx: MetricContext, salt: str = "") -> dict[str, Any]:
    """Everything a metric's per-video arrays depend on besides the videos (the cache key's input)."""
    config = metric.config
    return {
        "metric": metric.name,
        "version": metric.version,
        "class": f"{type(metric).__module__}.{type(metric).__qualname__}",
        "source_sha256": source_fingerprint(metric),
        "config": config.to_dict(),
        "weights": {k: _sha(Path(v)) for k, v in config.weight_files().items() if Path(v).is_file()},
        "networks": metric.identity(ctx),
        "salt": salt,  # e.g. the reference method's identity (fidelity)
        "vbench_lite": __version__,
    }


def _metric_key(metric: Metric, ctx: MetricContext, salt: str) -> str:
    return sha256_text(canonical_json(metric_identity(metric, ctx, salt)))


def _batch_key(batch: list[VideoItem], videos: torch.Tensor) -> str:
    h = hashlib.sha256(canonical_json([[it.index, it.prompt, it.seed] for it in batch]).encode())
    h.update(videos.contiguous().numpy().tobytes())
    return h.hexdigest()


def _check_arrays(metric: Metric, arrays: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    out = {}
    for key, arr in arrays.items():
        a = np.asarray(arr)
        if a.ndim not in (1, 2) or a.shape[0] != n:
            raise ValueError(
                f"metric {metric.name!r} returned {key!r} of shape {a.shape}; expected [{n}] or [{n}, D]"
            )
        out[key] = a
    return out


def _load_cached(path: Path, n: int) -> dict[str, np.ndarray] | None:
    """A batch's verified cached arrays, or None (absent, corrupt or of another shape: recompute)."""
    data = read_cache_bytes(path)
    if data is None:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # a verified file that still does not parse: recompute, never fail
        logger.warning("ignoring unreadable metric cache %s (%s); recomputing", path, exc)
        return None
    if not arrays or any(a.ndim not in (1, 2) or a.shape[0] != n for a in arrays.values()):
        logger.warning("ignoring metric cache %s with unexpected content; recomputing", path)
        return None
    return arrays


def per_video_arrays(
    metric: Metric,
    videos: dict[int, torch.Tensor],
    items: list[VideoItem],
    ctx: MetricContext,
    *,
    dist: Dist | None = None,
    salt: str = "",
    use_cache: bool = True,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Every video's arrays for ``metric``, concatenated in index order (on every rank)."""
    dist = dist or Dist()
    root = cache_dir("metrics", metric.name, _metric_key(metric, ctx, salt)) if use_cache else None
    local: dict[int, dict[str, np.ndarray]] = {}
    batches = dist.shard(micro_batches(items, ctx.batch_size))
    for batch in tqdm(batches, desc=f"score {metric.name}", unit="batch", disable=not progress or not dist.is_main):
        vids = torch.stack([videos[it.index] for it in batch])
        path = root / f"{_batch_key(batch, vids)}.npz" if root is not None else None
        arrays = _load_cached(path, len(batch)) if path is not None else None
        if arrays is None:
            arrays = _check_arrays(metric, metric.per_video(vids, batch, ctx), len(batch))
            if path is not None:
                buf = io.BytesIO()
                np.savez(buf, **arrays)
                write_cache_bytes(path, buf.getvalue())
        for j, it in enumerate(batch):
            local[it.index] = {k: v[j] for k, v in arrays.items()}
    merged = dist.gather(local)
    order = [it.index for it in sorted(items, key=lambda it: it.index)]
    keys = list(merged[order[0]]) if order else []
    return {k: np.stack([merged[i][k] for i in order]) for k in keys}


def score(
    metrics: list[Metric],
    videos: dict[int, torch.Tensor],
    items: list[VideoItem],
    ctx: MetricContext,
    *,
    dist: Dist | None = None,
    salt: str = "",
    use_cache: bool = True,
    progress: bool = True,
    skipped: dict[str, str] | None = None,
) -> tuple[dict[str, MetricResult], dict[int, dict[str, float]]]:
    """All metrics' aggregate results and each video's 1-D scores (``{index: {name: score}}``).

    With ``skipped`` (a dict), a metric the videos cannot support (:class:`UnsupportedInput`) is
    left out and ``skipped[name]`` says why; without it that is an error.
    """
    items = sorted(items, key=lambda it: it.index)
    results: dict[str, MetricResult] = {}
    per_video_scores: dict[int, dict[str, float]] = {it.index: {} for it in items}
    for metric in metrics:
        try:
            arrays = per_video_arrays(
                metric, videos, items, ctx, dist=dist, salt=salt, use_cache=use_cache, progress=progress
            )
            reported = metric.aggregate(arrays, items, ctx)
        except UnsupportedInput as exc:
            if skipped is None:
                raise
            skipped[metric.name] = str(exc).splitlines()[0]
            logger.warning("skipping metric %s: %s", metric.name, skipped[metric.name])
            continue
        for key, arr in arrays.items():
            if arr.ndim == 1:
                name = key if key.startswith(metric.name) else f"{metric.name}_{key}"
                for it, value in zip(items, arr):
                    per_video_scores[it.index][name] = float(value)
        for r in reported:
            if r.name in results:
                raise ValueError(f"metric result {r.name!r} reported twice (by {metric.name!r})")
            results[r.name] = r
    return results, per_video_scores


def metric_summary(results: dict[str, MetricResult]) -> list[dict[str, Any]]:
    return [
        {"metric": r.name, "value": r.value, "std": r.std, "better": "higher" if r.higher_is_better else "lower"}
        for r in results.values()
    ]
