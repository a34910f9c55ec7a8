"""Training clips encoded to latents once and cached, so no training step renders or encodes pixels.

The cache lives under ``vbench_lite.fsutil.cache_dir("latents")`` and is keyed by content: the
autoencoder's weights hash, the suite name and version, the split, the clip range, the resolution
and the frame count. A cache file is written atomically and read back verified by its key.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from vbench_lite.fsutil import atomic_write_bytes, cache_dir
from vbench_lite.methods.backbone.autoencoder import FrameAutoencoder
from vbench_lite.spec import canonical_json, sha256_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LatentClips:
    latents: torch.Tensor  # [N, C, T, h, w] float32, unit-variance latents
    prompts: list[str]
    seeds: list[int]
    key: str
    autoencoder_sha256: str = ""


def encoded_clips(
    autoencoder: FrameAutoencoder, autoencoder_sha: str, num: int, *, split: str = "train",
    offset: int = 0, resolution: int = 32, frames: int = 16, chunk: int = 256,
) -> LatentClips:
    """Latents of ``num`` suite clips from ``offset`` of ``split``, encoded once and cached."""
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    key = sha256_text(canonical_json({
        "autoencoder": autoencoder_sha, "suite": suite.name, "suite_version": suite.version, "split": split,
        "offset": offset, "num": num, "resolution": resolution, "frames": frames,
    }))
    path = cache_dir("latents") / f"{key[:32]}.safetensors"
    items = suite.items(split, num, offset)
    if path.is_file():
        blob = st_load(path.read_bytes())
        meta = json.loads(bytes(blob["meta"].tolist()).decode())
        if meta["key"] == key:
            logger.info("latent cache hit: %s", path)
            return LatentClips(blob["latents"], meta["prompts"], meta["seeds"], key, autoencoder_sha)
        logger.warning("latent cache %s has a different key; re-encoding", path)
    logger.info("encoding %d %s clips to latents (once) into %s", num, split, path)
    out = []
    with torch.no_grad():
        for i in range(0, num, chunk):
            video = suite.render(items[i : i + chunk], resolution=resolution, frames=frames)
            out.append(autoencoder.encode_video(video))
    latents = torch.cat(out).contiguous()
    prompts, seeds = [it.prompt for it in items], [it.seed for it in items]
    meta = json.dumps({"key": key, "prompts": prompts, "seeds": seeds}).encode()
    atomic_write_bytes(path, st_save({"latents": latents, "meta": torch.tensor(list(meta), dtype=torch.uint8)}))
    return LatentClips(latents, prompts, seeds, key, autoencoder_sha)
