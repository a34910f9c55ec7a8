"""Video generation in canonical micro-batches with a content-addressed, resumable cache.

Videos are generated in fixed micro-batches of the split keyed by video index (batch ``k`` holds
indices ``[k*M, (k+1)*M)``), so the composition of every call to ``generate`` is the same however
the run is sharded. Each finished micro-batch is written atomically, with its SHA-256, to the cache under a key of
the method (name, variant, adapter version, weights SHA-256), the generation spec and the package
version, then the batch's own (prompt, seed) hash; an interrupted run resumes from what is there.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from vbench_lite import __version__
from vbench_lite.fingerprint import source_fingerprint
from vbench_lite.fsutil import cache_dir, read_cache_bytes, write_cache_bytes
from vbench_lite.method import MethodAdapter
from vbench_lite.pipeline.distributed import Dist
from vbench_lite.spec import GenerationSpec, canonical_json, sha256_text
from vbench_lite.suites.base import VideoItem
from vbench_lite.video import validate

logger = logging.getLogger(__name__)


def method_key(adapter: MethodAdapter, info: dict[str, Any], gen: GenerationSpec) -> str:
    """Cache key of everything a method's videos depend on: its identity (name, version, weights),
    the generation settings and the fingerprint of its package's source (not the git commit), so
    changed method code never serves videos or profiles cached from the old code."""
    ident = {
        "method": adapter.full_name,
        "method_version": adapter.version,
        "weights_sha256": info.get("weights_sha256"),
        "source_sha256": source_fingerprint(adapter),
        "generation": gen,
        "vbench_lite": __version__,
    }
    if info.get("settings_sha256") is not None:  # settings beyond the weights (a method file's steps, CFG, ...)
        ident["settings_sha256"] = info["settings_sha256"]
    return sha256_text(canonical_json(ident))


def micro_batches(items: list[VideoItem], size: int) -> list[list[VideoItem]]:
    """Canonical micro-batches: grouped by ``index // size`` (indices, not list positions)."""
    groups: dict[int, list[VideoItem]] = {}
    for it in items:
        groups.setdefault(it.index // size, []).append(it)
    return [groups[k] for k in sorted(groups)]


def _batch_file(root: Path, batch: list[VideoItem]) -> Path:
    h = hashlib.sha256(canonical_json([[it.prompt, it.seed] for it in batch]).encode()).hexdigest()
    return root / f"{batch[0].index:06d}-{h[:16]}.pt"


def check_output(videos: Any, n: int, gen: GenerationSpec, method: str) -> torch.Tensor:
    """The method's output must be uint8 [n, T, 3, H, W] matching the spec, with no NaN."""
    try:
        validate(videos, name=f"output of method {method!r}")
    except ValueError as exc:
        raise ValueError(f"method {method!r} returned invalid videos: {exc}") from None
    expected = (n, gen.frames, 3, gen.height, gen.width)
    if tuple(videos.shape) != expected:
        raise ValueError(
            f"method {method!r} returned videos of shape {tuple(videos.shape)}; expected {expected}"
        )
    return videos


def generate_videos(
    adapter: MethodAdapter,
    items: list[VideoItem],
    gen: GenerationSpec,
    *,
    batch_size: int,
    info: dict[str, Any],
    dist: Dist | None = None,
    use_cache: bool = True,
    progress: bool = True,
    on_batch: Callable[[list[VideoItem], torch.Tensor], None] | None = None,
) -> dict[int, torch.Tensor]:
    """Generate (or load from cache) every item's video; returns ``{index: [T, C, H, W]}``.

    Under several processes each rank generates its share of micro-batches and all ranks get
    the union.
    """
    dist = dist or Dist()
    root = cache_dir("videos", method_key(adapter, info, gen)) if use_cache else None
    local: dict[int, torch.Tensor] = {}
    batches = dist.shard(micro_batches(items, batch_size))
    bar = tqdm(batches, desc=f"generate {adapter.full_name}", unit="batch", disable=not progress or not dist.is_main)
    for batch in bar:
        path = _batch_file(root, batch) if root is not None else None
        videos = _load_cached(path, len(batch)) if path is not None else None
        if videos is None:
            with torch.inference_mode():
                out = adapter.generate([it.prompt for it in batch], [it.seed for it in batch], gen)
            videos = check_output(out, len(batch), gen, adapter.full_name).cpu().contiguous()
            if path is not None:
                buf = io.BytesIO()
                torch.save(videos, buf)
                write_cache_bytes(path, buf.getvalue())
        for it, v in zip(batch, videos):
            local[it.index] = v
        if on_batch is not None:
            on_batch(batch, videos)
    return dist.gather(local)


def _load_cached(path: Path, n: int) -> torch.Tensor | None:
    """A micro-batch's cached videos if the file passes its SHA-256 (a flipped byte, a truncated file
    from a killed process or an old unverified file is regenerated, with a warning)."""
    data = read_cache_bytes(path)
    if data is None:
        return None
    try:
        videos = torch.load(io.BytesIO(data), weights_only=True)
    except Exception as exc:
        logger.warning("ignoring unreadable cache file %s (%s); regenerating", path, exc)
        return None
    if not isinstance(videos, torch.Tensor) or videos.shape[0] != n or videos.dtype != torch.uint8:
        logger.warning("ignoring cache file %s with unexpected content; regenerating", path)
        return None
    return videos


def video_sha256(video: torch.Tensor) -> str:
    return hashlib.sha256(video.contiguous().numpy().tobytes()).hexdigest()
