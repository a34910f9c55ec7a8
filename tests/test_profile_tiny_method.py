"""A tiny latent video diffusion method for the profiler tests, with its analytic FLOP count.

``TinyVideoMethod`` has every part the profiler must see: a text encoder, a k-step Euler sampler
over a space-time denoiser (3D conv, temporal 1D conv, spatial self-attention, linear
conditioning) with optional classifier-free guidance, and a decoder, each wrapped in its stage.
The other profiler tests import it; the tests here check the adapter itself behaves as the
contract asks (per-video determinism, batch independence), so the profiler tests rest on a
well-behaved method.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from vbench_lite.method import MethodAdapter
from vbench_lite.profile import stage
from vbench_lite.spec import GenerationSpec

LATENT, EMBED, HEADS, VOCAB, TOKENS, DOWN = 4, 8, 2, 64, 4, 4


class TinyTextEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, EMBED)
        self.proj = nn.Linear(EMBED, EMBED)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # [B, L] -> [B, EMBED]
        return self.proj(self.embed(tokens)).mean(1)


class TinyDenoiser(nn.Module):
    """x [B, C, T, H, W], cond [B, EMBED] -> velocity, same shape as x."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(LATENT, EMBED, 3, padding=1)
        self.temporal = nn.Conv1d(EMBED, EMBED, 3, padding=1)
        self.norm = nn.GroupNorm(2, EMBED)
        self.cond = nn.Linear(EMBED, EMBED)
        self.qkv = nn.Linear(EMBED, 3 * EMBED)
        self.out = nn.Conv3d(EMBED, LATENT, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.conv(x) + self.cond(cond)[:, :, None, None, None]
        b, c, t, hh, ww = h.shape
        seq = h.permute(0, 3, 4, 1, 2).reshape(b * hh * ww, c, t)  # temporal conv per pixel
        h = h + self.temporal(seq).reshape(b, hh, ww, c, t).permute(0, 3, 4, 1, 2)
        h = F.silu(self.norm(h))
        tok = h.permute(0, 2, 3, 4, 1).reshape(b * t, hh * ww, c)  # spatial attention per frame
        q, k, v = self.qkv(tok).reshape(b * t, hh * ww, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, hh, ww, c)
        return self.out(h + a.permute(0, 4, 1, 2, 3))


class TinyDecoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(LATENT, 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # [B, C, T, h, w] -> [B, T, 3, H, W] in [-1, 1]
        b, c, t, h, w = z.shape
        frames = F.interpolate(z.transpose(1, 2).reshape(b * t, c, h, w), scale_factor=DOWN, mode="nearest")
        return torch.tanh(self.conv(frames)).reshape(b, t, 3, h * DOWN, w * DOWN)


def tokenize(prompt: str) -> list[int]:
    codes = [ord(ch) % VOCAB for ch in prompt[:TOKENS]]
    return codes + [0] * (TOKENS - len(codes))


class TinyVideoMethod(MethodAdapter):
    """Tiny test method: k-step Euler flow sampler, optional CFG."""

    name = "tiny-profile"
    variants: ClassVar[dict[str, str]] = {"cfg": "classifier-free guidance (two denoiser passes a step)"}
    steps = 3
    guidance = 2.0

    def __init__(self, variant: str | None = None, steps: int | None = None) -> None:
        super().__init__(variant)
        self.steps = steps or self.steps
        self.cfg = variant == "cfg"
        torch.manual_seed(0)
        self.text, self.net, self.decoder = TinyTextEncoder(), TinyDenoiser(), TinyDecoder()
        self.unused_head = nn.Linear(EMBED, 100)  # held but never run: counts in total params only

    def load(self, device: str = "cpu") -> None:
        for m in (self.text, self.net, self.decoder, self.unused_head):
            m.to(device).eval()

    @torch.inference_mode()
    def generate(self, prompts: list[str], seeds: list[int], spec: GenerationSpec) -> torch.Tensor:
        side = spec.resolution // DOWN
        with stage("text"):
            cond = self.text(torch.tensor([tokenize(p) for p in prompts]))
            uncond = self.text(torch.tensor([tokenize("")] * len(prompts))) if self.cfg else None
        noise = [torch.randn(LATENT, spec.frames, side, side, generator=torch.Generator().manual_seed(s)) for s in seeds]
        x = torch.stack(noise)
        with stage("denoise"):
            for _ in range(self.steps):
                v = self.net(x, cond)
                if uncond is not None:
                    v_u = self.net(x, uncond)
                    v = v_u + self.guidance * (v - v_u)
                x = x - v / self.steps
        with stage("decode"):
            video = self.decoder(x)
        return ((video + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)

    def describe(self) -> dict[str, Any]:
        return {"steps": self.steps, "nfe": self.steps * (2 if self.cfg else 1)}

    def denoiser(self) -> tuple[nn.Module, tuple[Any, ...]]:
        return self.net, (torch.randn(1, LATENT, 4, 8, 8), torch.randn(1, EMBED))


# -- the analytic count (2 FLOPs per multiply-accumulate) -----------------------------------------
def denoiser_flops(b: int, t: int, h: int, w: int) -> int:
    """One TinyDenoiser call on x [b, LATENT, t, h, w]."""
    n = b * t * h * w
    conv = 2 * n * EMBED * LATENT * 27
    cond = 2 * b * EMBED * EMBED
    temporal = 2 * n * EMBED * EMBED * 3
    qkv = 2 * n * EMBED * 3 * EMBED
    d = EMBED // HEADS
    attention = 4 * (b * t) * HEADS * (h * w) * (h * w) * d
    out = 2 * n * LATENT * EMBED
    return conv + cond + temporal + qkv + attention + out


def text_flops(b: int) -> int:
    return 2 * b * TOKENS * EMBED * EMBED  # the embedding lookup is not arithmetic


def decoder_flops(b: int, t: int, size: int) -> int:
    return 2 * b * t * size * size * 3 * LATENT * 9


# -- the adapter obeys the contract the profiler relies on ----------------------------------------
SPEC = GenerationSpec(frames=4, resolution=32)


def test_tiny_method_output_convention() -> None:
    m = TinyVideoMethod()
    m.load()
    out = m.generate(["a red circle"], [3], SPEC)
    assert out.dtype == torch.uint8 and tuple(out.shape) == (1, 4, 3, 32, 32)


def test_tiny_method_video_depends_only_on_prompt_and_seed() -> None:
    m = TinyVideoMethod("cfg")
    m.load()
    alone = m.generate(["a blue square"], [7], SPEC)
    batch = m.generate(["a red circle", "a blue square"], [1, 7], SPEC)
    assert torch.equal(alone[0], batch[1])
    assert not torch.equal(batch[0], batch[1])
