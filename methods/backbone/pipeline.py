"""Batch-invariant text-to-video generation with the latent diffusion backbone.

A video depends only on its (prompt, seed): its initial noise comes from its own seed
(``torch.Generator().manual_seed(seed)``), and every network call runs on canonical micro-batches of
exactly ``micro_batch`` videos (the last one padded with copies of its first video, whose outputs are
dropped). CPU kernels can pick different algorithms for different batch sizes, so a fixed
batch shape is what makes the result independent of how a caller groups its videos; that a row's
output does not depend on the other rows of a same-shaped batch is tested in
``tests/test_backbone_pipeline.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace

import torch

from vbench_lite.methods.backbone.autoencoder import DOWNSCALE, FrameAutoencoder
from vbench_lite.methods.backbone.model import TextFeatures, VideoDiffusion
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.profile import stage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextDenoiser:
    """The model conditioned on a micro-batch's captions: the :class:`.sampler.Denoiser` a
    :class:`FlowSampler` evaluates (``frame_index``: absolute frame positions, ``skip``: blocks
    run as the identity)."""

    model: VideoDiffusion
    cond: TextFeatures
    uncond: TextFeatures | None
    frame_index: torch.Tensor | None = None
    skip: tuple[str, ...] = ()

    def at(self, frame_index: torch.Tensor | None) -> TextDenoiser:
        """The same captions at other frame positions (a temporal pyramid's stage)."""
        return replace(self, frame_index=frame_index)

    def velocity(self, x: torch.Tensor, t: float) -> torch.Tensor:
        tt = torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)
        return self.model.velocity(x, tt, self.cond, self.frame_index, self.skip)

    def velocity_pair(self, x: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
        if self.uncond is None:
            raise ValueError("this denoiser was built without the unconditional caption (CFG off)")
        return self.model.velocity_pair(x, t, self.cond, self.uncond, self.frame_index, self.skip)


def video_noise(seeds: list[int], shape: tuple[int, ...]) -> torch.Tensor:
    """``[B, *shape]`` standard normal noise, row ``i`` drawn from a generator seeded with ``seeds[i]``."""
    return torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(int(s))) for s in seeds])


def check_request(prompts: list[str], seeds: list[int]) -> None:
    """Raise ``ValueError`` naming the argument for empty or mismatched ``prompts``/``seeds``."""
    if not isinstance(prompts, (list, tuple)) or len(prompts) == 0:
        raise ValueError("prompts is empty: give at least one prompt")
    if any(not isinstance(p, str) for p in prompts):
        raise ValueError("prompts must be strings")
    if len(seeds) != len(prompts):
        raise ValueError(f"prompts and seeds differ in length ({len(prompts)} prompts, {len(seeds)} seeds)")


class LatentVideoGenerator:
    """Autoencoder + diffusion model + sampler -> uint8 videos ``[B, T, 3, H, W]``.

    A method with another sampling procedure overrides :meth:`initial_noise` and :meth:`denoise`
    (TPDiff: the pyramid's stages); text encoding, micro-batching and decoding stay here.
    """

    def __init__(
        self, model: VideoDiffusion, autoencoder: FrameAutoencoder, sampler: FlowSampler,
        micro_batch: int = 16, skip: Collection[str] = (),
    ) -> None:
        if micro_batch < 1:
            raise ValueError(f"micro_batch must be at least 1, got {micro_batch}")
        self.model = model
        self.autoencoder = autoencoder
        self.sampler = sampler
        self.micro_batch = micro_batch
        self.skip = tuple(skip)
        if self.skip:
            model.unet.check_skip(self.skip)

    @property
    def samplers(self) -> tuple[FlowSampler, ...]:
        """Every sampler a video runs through, in order (one here; a pyramid's stages)."""
        return (self.sampler,)

    @property
    def nfe(self) -> int:
        """Denoiser evaluations per video, derived from the samplers."""
        return sum(s.nfe for s in self.samplers)

    @torch.no_grad()
    def generate(
        self, prompts: list[str], seeds: list[int], frames: int, resolution: int,
        frame_index: torch.Tensor | None = None,
    ) -> torch.Tensor:
        check_request(prompts, seeds)
        if resolution % DOWNSCALE:
            raise ValueError(f"resolution {resolution} must be divisible by {DOWNSCALE}")
        latent = resolution // DOWNSCALE
        shape = (self.model.unet.config.latent_channels, frames, latent, latent)
        out = []
        m = self.micro_batch
        for start in range(0, len(prompts), m):
            p, s = list(prompts[start : start + m]), list(seeds[start : start + m])
            n = len(p)
            p += [p[0]] * (m - n)  # pad to the canonical micro-batch shape; outputs dropped
            s += [s[0]] * (m - n)
            out.append(self._micro_batch(p, s, shape, frame_index)[:n])
        return torch.cat(out)

    def _micro_batch(
        self, prompts: list[str], seeds: list[int], shape: tuple[int, ...], frame_index: torch.Tensor | None
    ) -> torch.Tensor:
        model = self.model
        device = next(model.parameters()).device
        with stage("text"):
            cond = model.encode_text(model.tokenize(prompts).to(device))
            guided = any(s.guided for s in self.samplers)
            uncond = model.encode_text(model.null_ids(len(prompts)).to(device)) if guided else None
        denoiser = TextDenoiser(model, cond, uncond, None if frame_index is None else frame_index.to(device), self.skip)
        noise = self.initial_noise(seeds, shape).to(device)  # drawn on the CPU: identical on every device
        with stage("denoise"):
            z = self.denoise(denoiser, noise, seeds)
        with stage("decode"):
            return self.autoencoder.decode_video(z).cpu()

    def initial_noise(self, seeds: list[int], shape: tuple[int, ...]) -> torch.Tensor:
        """The state at the first sampler's first time, one row per seed."""
        return video_noise(seeds, shape)

    def denoise(self, denoiser: TextDenoiser, noise: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        """Latents at ``t = 0`` from ``noise``."""
        return self.sampler.sample(denoiser, noise)

    def example_inputs(self, frames: int = 16, resolution: int = 32) -> tuple[torch.Tensor, ...]:
        """Inputs of one denoiser call on a canonical micro-batch (``2 * micro_batch`` rows with CFG)."""
        b = self.micro_batch * (2 if any(s.guided for s in self.samplers) else 1)
        latent = resolution // DOWNSCALE
        x = torch.randn(b, self.model.unet.config.latent_channels, frames, latent, latent,
                        generator=torch.Generator().manual_seed(0))
        t = torch.full((b,), 0.5)
        prompt = "a red circle moving left slowly on a black background"
        ids = self.model.tokenize([prompt] * self.micro_batch)
        if b > self.micro_batch:
            ids = torch.cat([ids, self.model.null_ids(self.micro_batch)])
        with torch.no_grad():
            text = self.model.encode_text(ids)
        return (x, t, *text)
