"""A latency and peak-memory lookup table of the space-time UNet's blocks, measured on this machine.

Hardware-aware architecture searches (SnapGen-V, Wu et al. 2025, Sec. 3.2; earlier FBNet, Wu et
al. 2019, and Once-for-All) estimate a candidate's cost from a table of its parts measured on the
target device instead of timing every candidate. Here a part is one named block of
:class:`~.unet.SpaceTimeUNet` (a ResBlock, a temporal layer of one type, a cross-attention) at the
activation shape it sees in a denoiser call, plus the *rest* of the network (stem, timestep and
layout embeddings, down/upsampling, head: the UNet with every skippable block skipped). A
candidate's estimate is ``rest + sum(blocks)``; its peak memory estimate is the largest peak of any
part (the parts run one after another).

Every entry is measured with the project's profiler (:func:`vbench_lite.profile.measure_latency`:
warm-up, repeated runs, median and every run kept; peak memory through
:func:`vbench_lite.profile.memory.call_peak_memory`) and cached under
``cache_dir("profile", "latency_table")``, keyed by the machine's identity (CPU or GPU name,
device, thread count, torch version) and by each part's signature (its type, width, activation
shape and the code of the layers), so another machine, thread count or layer implementation
measures again, and the same one never does.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

from vbench_lite.methods.backbone import layers as layers_module
from vbench_lite.methods.backbone import unet as unet_module
from vbench_lite.methods.backbone.layers import Cond, CrossAttention, ResBlock, make_temporal
from vbench_lite.methods.backbone.unet import SpaceTimeUNet, UNetConfig

logger = logging.getLogger(__name__)

FORMAT = "vbench_lite.latency_table/1"
REST = "rest"  # the part of a call outside every skippable block


def machine_identity(device: str = "cpu", threads: int = 1) -> dict[str, Any]:
    """What a measurement depends on besides the code: processor, device, threads, torch."""
    from vbench_lite.env import cpu_name

    name = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else cpu_name()
    return {"processor": name, "device": device.split(":")[0], "threads": int(threads), "torch": torch.__version__}


def _code_version() -> str:
    """SHA-256 of the source of the layers and the UNet: another implementation measures again."""
    h = hashlib.sha256()
    for mod in (layers_module, unet_module):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class CallShape:
    """The denoiser call the table is measured for: ``videos`` rows of ``frames`` latent frames."""

    videos: int = 16  # one canonical micro-batch without CFG (a CFG pair is 2 x videos rows)
    frames: int = 16
    latent: int = 8  # latent height = width
    text_len: int = 24


@dataclass(frozen=True)
class BlockSignature:
    """One part of the table: a block type at a width and activation shape."""

    kind: str  # "res", "xattn" or "temporal:<type>"
    width: int
    size: int  # activation height = width at the block's level
    shape: CallShape
    group_channels: int
    head_channels: int
    emb_dim: int
    text_dim: int
    pos_dim: int

    def key(self) -> str:
        return f"{self.kind}|w={self.width}|s={self.size}|" + "|".join(f"{k}={v}" for k, v in sorted(
            {**asdict(self.shape), "gc": self.group_channels, "hc": self.head_channels, "emb": self.emb_dim,
             "text": self.text_dim, "pos": self.pos_dim}.items()))


def block_signatures(config: UNetConfig, shape: CallShape) -> dict[str, BlockSignature]:
    """The table part of every block of ``config`` (pruned blocks are absent), by block name."""
    unet = SpaceTimeUNet(config) if not isinstance(config, SpaceTimeUNet) else config
    cfg = unet.config
    out = {}
    for name in unet.skippable_blocks():
        parts = name.split(".")
        level = len(cfg.widths) - 1 if parts[0] == "mid" else int(parts[1])
        kind = parts[-2]
        if kind == "temporal":
            kind = f"temporal:{cfg.temporal_type(name)}"
        out[name] = BlockSignature(kind, cfg.widths[level], shape.latent // 2**level, shape, cfg.group_channels,
                                   cfg.head_channels, cfg.emb_dim, cfg.text_dim, cfg.pos_dim)
    return out


def rest_config(config: UNetConfig) -> UNetConfig:
    """``config`` with the fields that only change skippable blocks normalised (the rest's identity)."""
    return replace(config, temporal_down=tuple(("none",) * len(t) for t in config.temporal_down),
                   temporal_up=tuple(("none",) * len(t) for t in config.temporal_up),
                   temporal_mid=("none",) * len(config.temporal_mid), pruned=())


def _block_call(sig: BlockSignature, device: str) -> tuple[torch.nn.Module, torch.Tensor, Cond]:
    """The block module and a random input of its shape (latency does not depend on the values)."""
    s, kind = sig.shape, sig.kind
    if kind == "res":
        module: torch.nn.Module = ResBlock(sig.width, sig.emb_dim, sig.group_channels)
    elif kind == "xattn":
        module = CrossAttention(sig.width, sig.text_dim, sig.group_channels, sig.head_channels)
    elif kind.startswith("temporal:"):
        module = make_temporal(kind.split(":", 1)[1], sig.width, sig.group_channels, sig.head_channels, sig.pos_dim)
    else:
        raise ValueError(f"unknown block kind {kind!r}")
    g = torch.Generator().manual_seed(0)
    b, t = s.videos, s.frames
    h = torch.randn(b * t, sig.width, sig.size, sig.size, generator=g)
    cond = Cond(b, t, torch.randn(b, sig.emb_dim, generator=g), torch.randn(b, s.text_len, sig.text_dim, generator=g),
                torch.ones(b, s.text_len, dtype=torch.bool), torch.randn(b, t, sig.pos_dim, generator=g))
    cond = Cond(cond.batch, cond.frames, *(x.to(device) for x in (cond.emb, cond.text, cond.text_keep, cond.frame_emb)))
    return module.to(device).eval(), h.to(device), cond


class LatencyTable:
    """Per-part latency (s per denoiser call) and peak memory on this machine, measured on demand.

    ``entry(signature)`` measures a missing part and stores it; ``estimate(config)`` sums a
    candidate's parts. ``measured`` counts the measurements this instance made (0 when every part
    came from the cache).
    """

    def __init__(self, device: str = "cpu", threads: int = 1, shape: CallShape = CallShape(),
                 warmup: int = 2, repeats: int = 7, path: str | Path | None = None) -> None:
        from vbench_lite.fsutil import cache_dir, read_cache_json

        self.device, self.threads, self.shape = device, int(threads), shape
        self.warmup, self.repeats = warmup, repeats
        self.machine = machine_identity(device, self.threads)
        self.code = _code_version()
        ident = hashlib.sha256(repr((sorted(self.machine.items()), self.code)).encode()).hexdigest()[:16]
        self.path = Path(path) if path else cache_dir("profile", "latency_table") / f"{ident}.json"
        cached = read_cache_json(self.path) or {}
        ok = cached.get("format") == FORMAT and cached.get("machine") == self.machine and cached.get("code") == self.code
        self.entries: dict[str, dict[str, Any]] = dict(cached.get("entries", {})) if ok else {}
        self.measured = 0

    # -- measuring -----------------------------------------------------------------------------
    def _measure(self, fn: Any) -> dict[str, Any]:
        from vbench_lite.profile.latency import measure_latency
        from vbench_lite.profile.memory import call_peak_memory

        with torch.no_grad():
            lat = measure_latency(fn, warmup=self.warmup, repeats=self.repeats, device=self.device,
                                  threads=self.threads)
            mem = call_peak_memory(fn, self.device)
        self.measured += 1
        return {"latency": lat.to_dict(), "median_s": lat.median_s, "peak_bytes": mem["increase_bytes"],
                "memory_source": mem["source"], "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def _store(self, key: str, entry: dict[str, Any]) -> dict[str, Any]:
        from vbench_lite.fsutil import write_cache_json

        self.entries[key] = entry
        write_cache_json(self.path, self.to_json())
        return entry

    def entry(self, sig: BlockSignature) -> dict[str, Any]:
        key = sig.key()
        if key not in self.entries:
            module, h, cond = _block_call(sig, self.device)
            logger.info("latency table: measuring %s", key)
            self._store(key, {"part": asdict(sig), **self._measure(lambda: module(h, cond))})
        return self.entries[key]

    def rest_entry(self, config: UNetConfig) -> dict[str, Any]:
        """The call with every skippable block skipped: stem, embeddings, layout, resampling, head."""
        base = rest_config(config)
        key = f"{REST}|{sorted(base.to_dict().items())}|{sorted(asdict(self.shape).items())}"
        if key not in self.entries:
            unet = SpaceTimeUNet(base).to(self.device).eval()
            inputs = self.call_inputs(base)
            skip = set(unet.skippable_blocks())
            logger.info("latency table: measuring the rest of %s", key[:60])
            self._store(key, {"part": REST, "config": base.to_dict(), **self._measure(lambda: unet(*inputs, skip=skip))})
        return self.entries[key]

    def call_inputs(self, config: UNetConfig) -> tuple[torch.Tensor, ...]:
        """Inputs of one denoiser call of ``self.shape`` for a UNet of ``config`` (random caption
        features of the caption length: the UNet's cost does not depend on their values)."""
        s = self.shape
        g = torch.Generator().manual_seed(0)
        x = torch.randn(s.videos, config.latent_channels, s.frames, s.latent, s.latent, generator=g)
        text = torch.randn(s.videos, s.text_len, config.text_dim, generator=g)
        keep = torch.ones(s.videos, s.text_len, dtype=torch.bool)
        pooled = torch.randn(s.videos, config.text_dim, generator=g)
        return tuple(v.to(self.device) for v in (x, torch.full((s.videos,), 0.5), text, keep, pooled))

    # -- estimating ----------------------------------------------------------------------------
    def estimate(self, config: UNetConfig) -> dict[str, Any]:
        """A candidate's latency (``rest + sum of its blocks``) and peak memory from the table."""
        parts = {name: self.entry(sig) for name, sig in block_signatures(config, self.shape).items()}
        rest = self.rest_entry(config)
        latency = rest["median_s"] + sum(e["median_s"] for e in parts.values())
        peak = max([rest["peak_bytes"], *(e["peak_bytes"] for e in parts.values())])
        return {"latency_s": latency, "peak_bytes": peak, "rest_s": rest["median_s"],
                "blocks_s": {n: e["median_s"] for n, e in parts.items()}}

    def measure_whole(self, configs: Iterable[UNetConfig], rounds: int = 7) -> list[float]:
        """Median latency of whole denoiser calls of ``configs``, timed round-robin (the check of the
        table's additivity; a shared machine's load drifts alike over all of them)."""
        from vbench_lite.profile.latency import Clock, fixed_threads, timed_call

        configs = list(configs)
        models = [SpaceTimeUNet(c).to(self.device).eval() for c in configs]
        inputs = [self.call_inputs(c) for c in configs]
        runs: list[list[float]] = [[] for _ in models]
        clock = Clock(self.device)
        with torch.no_grad(), fixed_threads(self.threads):
            for m, x in zip(models, inputs):
                for _ in range(self.warmup):
                    m(*x)
            for _ in range(rounds):
                for i, (m, x) in enumerate(zip(models, inputs)):
                    runs[i].append(timed_call(lambda m=m, x=x: m(*x), clock).wall_s)
        return [statistics.median(r) for r in runs]

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "machine": self.machine, "code": self.code, "shape": asdict(self.shape),
                "unit": "s per denoiser call (median); peak memory in bytes over the call's start",
                "entries": self.entries}
