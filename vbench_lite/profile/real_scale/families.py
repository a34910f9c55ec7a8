"""How each architecture family is called: latent geometry and the inputs of one forward.

The shipped configurations say *what* a model is; a family says how its pipeline feeds it, after
the diffusers pipeline of the same name (``WanPipeline``, ``CogVideoXPipeline``, ``LTXPipeline``,
``HunyuanVideoPipeline``, ``AnimateDiffPipeline``): the latent layout, the text states, the extra
conditioning inputs and the VAE decode call. Inputs are empty tensors on the meta device (for
counting) or standard-normal ones on a real device (for timing random-weight models).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from vbench_lite.profile.real_scale.architecture import Architecture

META = torch.device("meta")


@dataclass(frozen=True)
class LatentGrid:
    """The latent video one denoiser call sees: ``channels x frames x height x width``."""

    channels: int
    frames: int
    height: int
    width: int

    def scaled(self, frames_scale: float, resolution_scale: float, multiple: int, frame_multiple: int) -> LatentGrid:
        """The grid of a pyramid stage: frames and sides scaled, rounded up to what the patching
        accepts (rounding up never under-counts a stage's cost)."""
        def up(x: int, s: float, m: int) -> int:
            return max(m, math.ceil(x * s / m - 1e-9) * m)
        return LatentGrid(self.channels, up(self.frames, frames_scale, frame_multiple),
                          up(self.height, resolution_scale, multiple), up(self.width, resolution_scale, multiple))


class _Inputs:
    """Makes the inputs of one call: empty on the meta device, standard normal elsewhere."""

    def __init__(self, device: torch.device | str = META, dtype: torch.dtype | None = None) -> None:
        self.device, self.dtype = torch.device(device), dtype

    def __call__(self, *shape: int) -> torch.Tensor:
        if self.device.type == "meta":
            return torch.empty(shape, device=self.device, dtype=self.dtype)
        return torch.randn(shape, device=self.device, dtype=self.dtype)

    def ones(self, *shape: int) -> torch.Tensor:
        return torch.ones(shape, device=self.device, dtype=self.dtype)


def patch_sizes(arch: Architecture) -> tuple[int, int]:
    """(temporal, spatial) patch size of the denoiser's tokeniser."""
    cfg = arch.denoiser["config"]
    if arch.family == "wan":
        pt, ph, _ = cfg["patch_size"]
        return pt, ph
    if arch.family == "animatediff":  # a UNet halves the grid three times
        return 1, 2 ** (len(cfg["block_out_channels"]) - 1)
    return cfg.get("patch_size_t") or 1, cfg["patch_size"]


def latent_grid(arch: Architecture, frames: int, height: int, width: int) -> LatentGrid:
    """The latent grid of a ``frames x height x width`` video; a size the VAE or the patching
    cannot take is a ``ValueError`` that names the nearest valid one."""
    lat = arch.latent
    tc, sc = lat["temporal_compression"], lat["spatial_compression"]
    if frames < 1 or height < 1 or width < 1:
        raise ValueError(f"frames, height and width must be positive, got {frames}, {height}x{width}")
    if lat["causal_first_frame"] and (frames - 1) % tc:
        ok = (frames - 1) // tc * tc + 1
        raise ValueError(f"{arch.name} encodes the first frame alone and then groups of {tc}: frames must be "
                         f"{tc}k+1 (e.g. {ok} or {ok + tc}), got {frames}")
    if not lat["causal_first_frame"] and frames % tc:
        raise ValueError(f"{arch.name} needs frames divisible by {tc}, got {frames}")
    _, ps = patch_sizes(arch)
    side = sc * ps
    for label, v in (("height", height), ("width", width)):
        if v % side:
            raise ValueError(f"{arch.name} needs {label} divisible by {side} (VAE {sc}x times patch {ps}), got {v}")
    t = (frames - 1) // tc + 1 if lat["causal_first_frame"] else frames // tc
    return LatentGrid(lat["channels"], t, height // sc, width // sc)


def denoiser_call(arch: Architecture, model: Any, grid: LatentGrid, batch: int = 1,
                  device: torch.device | str = META, dtype: torch.dtype | None = None) -> Callable[[], Any]:
    """A zero-argument call of one denoiser forward on ``batch`` latent videos of ``grid``."""
    cfg, fam = arch.denoiser["config"], arch.family
    make = _Inputs(device, dtype)
    c, t, h, w = grid.channels, grid.frames, grid.height, grid.width
    step = make(batch)
    if fam == "wan":
        tokens = arch.text_encoders[0]["tokens"]
        x, text = make(batch, c, t, h, w), make(batch, tokens, cfg["text_dim"])
        return lambda: model(x, step, text, return_dict=False)
    if fam == "cogvideox":
        x, text = make(batch, t, c, h, w), make(batch, cfg["max_text_seq_length"], cfg["text_embed_dim"])
        return lambda: model(x, text, step, return_dict=False)
    if fam == "ltx":
        tokens = arch.text_encoders[0]["tokens"]
        x, text = make(batch, t * h * w, c), make(batch, tokens, cfg["caption_channels"])
        mask = make.ones(batch, tokens)
        tc, sc = arch.latent["temporal_compression"], arch.latent["spatial_compression"]
        rope_scale = (tc / arch.sampling["frame_rate"], sc, sc)  # as LTXPipeline passes it
        return lambda: model(x, text, step, mask, num_frames=t, height=h, width=w,
                             rope_interpolation_scale=rope_scale, return_dict=False)
    if fam == "hunyuan":
        tokens = arch.sampling["text_tokens_denoiser"]
        x, text = make(batch, c, t, h, w), make(batch, tokens, cfg["text_embed_dim"])
        mask = make.ones(batch, tokens)
        pooled, guidance = make(batch, cfg["pooled_projection_dim"]), make(batch)
        return lambda: model(x, step, text, mask, pooled, guidance=guidance, return_dict=False)
    if fam == "animatediff":
        tokens = arch.text_encoders[0]["tokens"]
        # AnimateDiffPipeline repeats the prompt states once per frame (repeat_interleave, dim 0)
        x, text = make(batch, c, t, h, w), make(batch * t, tokens, cfg["cross_attention_dim"])
        return lambda: model(x, step, text, return_dict=False)
    raise ValueError(f"architecture family {fam!r} has no call convention (known: wan, cogvideox, ltx, hunyuan, animatediff)")


def decoder_call(arch: Architecture, vae: Any, grid: LatentGrid,
                 device: torch.device | str = META, dtype: torch.dtype | None = None) -> Callable[[], Any]:
    """A zero-argument call of the VAE decoder on one latent video of ``grid``."""
    make = _Inputs(device, dtype)
    c, t, h, w = grid.channels, grid.frames, grid.height, grid.width
    if arch.family == "animatediff":  # an image VAE: the frames are decoded as a batch of images
        z = make(t, c, h, w)
    else:
        z = make(1, c, t, h, w)
    return lambda: vae.decode(z, return_dict=False)


def text_call(encoder: Any, tokens: int, batch: int) -> Callable[[], Any]:
    """A zero-argument call of a text encoder on ``batch`` prompts padded to ``tokens``."""
    ids = torch.zeros(batch, tokens, dtype=torch.long, device=META)
    return lambda: encoder(input_ids=ids)
