"""The latent video diffusion model: caption tokenizer + text encoder + space-time UNet, with its
(de)serialisation as a verified checkpoint folder (see :mod:`checkpoint`).

``VideoDiffusion.velocity_pair`` evaluates the conditional and unconditional velocities of one
micro-batch in a single denoiser call of ``2 B`` rows (``[cond; uncond]``), the usual CFG batching.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vbench_lite.methods.backbone.checkpoint import load_checkpoint, save_checkpoint, weights_sha256
from vbench_lite.methods.backbone.text import (
    CaptionTokenizer,
    TextEncoder,
    TextEncoderConfig,
    shapes_vocabulary,
)
from vbench_lite.methods.backbone.unet import SpaceTimeUNet, UNetConfig

TextFeatures = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # tokens [B,L,D], keep [B,L], pooled [B,D]


class VideoDiffusion(nn.Module):
    def __init__(
        self,
        unet: UNetConfig | None = None,
        text: TextEncoderConfig | None = None,
        vocabulary: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__()
        words = tuple(vocabulary) if vocabulary else shapes_vocabulary()
        self.tokenizer = CaptionTokenizer(words)
        text = text or TextEncoderConfig(vocab_size=len(words))
        if text.vocab_size != len(words):
            raise ValueError(f"text encoder vocab_size {text.vocab_size} != vocabulary size {len(words)}")
        unet = unet or UNetConfig(text_dim=text.dim)
        if unet.text_dim != text.dim:
            raise ValueError(f"UNet text_dim {unet.text_dim} != text encoder dim {text.dim}")
        self.text_encoder = TextEncoder(text)
        self.unet = SpaceTimeUNet(unet)

    # -- text ----------------------------------------------------------------------------------
    def tokenize(self, prompts: list[str]) -> torch.Tensor:
        return self.tokenizer.encode(prompts)

    def encode_text(self, ids: torch.Tensor) -> TextFeatures:
        return self.text_encoder(ids)

    def null_ids(self, n: int) -> torch.Tensor:
        """The caption-dropout condition: the empty caption (``<bos>`` only)."""
        return self.tokenize([""] * n)

    # -- denoiser ------------------------------------------------------------------------------
    def velocity(
        self, x: torch.Tensor, t: torch.Tensor, text: TextFeatures,
        frame_index: torch.Tensor | None = None, skip: Collection[str] = (),
    ) -> torch.Tensor:
        return self.unet(x, t, *text, frame_index=frame_index, skip=skip)

    def velocity_and_features(
        self, x: torch.Tensor, t: torch.Tensor, text: TextFeatures, features: Sequence[str],
        frame_index: torch.Tensor | None = None, skip: Collection[str] = (),
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The velocity and the outputs of the UNet blocks named in ``features``, in one pass."""
        return self.unet(x, t, *text, frame_index=frame_index, skip=skip, return_features=tuple(features))

    def velocity_pair(
        self, x: torch.Tensor, t: float, cond: TextFeatures, uncond: TextFeatures,
        frame_index: torch.Tensor | None = None, skip: Collection[str] = (),
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b = x.shape[0]
        text = tuple(torch.cat([c, u]) for c, u in zip(cond, uncond))
        tt = torch.full((2 * b,), t, dtype=x.dtype, device=x.device)
        fi = frame_index if frame_index is None or frame_index.dim() == 1 else torch.cat([frame_index] * 2)
        v = self.velocity(torch.cat([x, x]), tt, text, fi, skip)  # type: ignore[arg-type]
        return v[:b], v[b:]

    # -- config --------------------------------------------------------------------------------
    def config_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "unet": self.unet.config.to_dict(),
            "text_encoder": asdict(self.text_encoder.config),
            "vocabulary": list(self.tokenizer.words),
        }

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> VideoDiffusion:
        return cls(
            UNetConfig.from_dict(cfg["unet"]),
            TextEncoderConfig(**cfg["text_encoder"]),
            tuple(cfg["vocabulary"]),
        )


def save_model(
    folder: str | Path, model: VideoDiffusion, extra_config: dict[str, Any] | None = None, half: bool = False
) -> Path:
    """Write a model checkpoint (fp16 storage when ``half``; it is loaded back as fp32)."""
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in model.state_dict().items()}
    return save_checkpoint(folder, {"model": state}, {"model": model.config_dict(), **(extra_config or {})})


def load_model(folder: str | Path, rebuild_hint: str = "") -> tuple[VideoDiffusion, dict[str, Any], str]:
    """Verified load -> (model in fp32 eval mode, full config, weights SHA-256)."""
    tensors, config, files = load_checkpoint(folder, rebuild_hint)
    model = VideoDiffusion.from_config(config["model"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors["model"].items()})
    return model.eval().requires_grad_(False), config, weights_sha256(files)
