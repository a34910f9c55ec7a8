"""Pluggable feature and flow backbones of the VBench dimensions.

Real protocol (VBench's own networks, weights from local files, never downloaded):
- subject consistency: DINO ViT-B/16 CLS features (timm ``vit_base_patch16_224.dino``), VBench's
  ``dino_transform``: shortest side to 224 (bilinear, float), ImageNet mean/std, no crop; for
  non-square frames the position embeddings are resampled as DINO's own
  ``VisionTransformer.interpolate_pos_encoding`` does (the torch-hub DINO VBench loads), not as
  timm does;
- background consistency: CLIP ViT-B/32 image features of whole frames;
- dynamic degree: RAFT (torchvision ``raft_large``, 20 flow updates as VBench's ``iters=20``);
  the flow of the padded frames is scored, as VBench's ``DynamicDegree.infer`` does;
- motion smoothness: AMT-S (``AmtInterpolator``), the network code from the ``vbench`` package
  (an optional dependency), the weights from a local file.

Embedded protocol (shapes suite): ``shapes-clip`` image features of the object region on a
neutral background (subject) and of the frame with the objects painted out (background), so the
two dimensions measure different things; Farneback flow for dynamic degree and smoothness.
"""

from __future__ import annotations

import logging
import math
import os
import types
from pathlib import Path
from typing import Any

import torch

from vbench_lite.fsutil import local_weights_file, sha256_file
from vbench_lite.metrics.clip_models import PREPROCESSING, ClipBackbone
from vbench_lite.metrics.vbench import segment

logger = logging.getLogger(__name__)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_HINT = "pass {option} PATH to an existing local file (nothing is downloaded)"


class ClipFrameFeatures:
    """CLIP image features of every frame; ``region`` = ``full``, ``object`` or ``background``.

    Frames are preprocessed as VBench's ``clip_transform`` does (bicubic without antialiasing,
    on float frames), not as CLIPSIM's PIL-like open_clip transform."""

    REGIONS = ("full", "object", "background")

    def __init__(self, clip: ClipBackbone, region: str = "full") -> None:
        if region not in self.REGIONS:
            raise ValueError(f"unknown region {region!r}; use one of {', '.join(self.REGIONS)}")
        self.clip, self.region = clip, region
        self.name = f"{clip.name}:{region}"

    def frames(self, video: torch.Tensor) -> torch.Tensor:
        if self.region == "object":
            return segment.object_frames(video)
        if self.region == "background":
            return segment.background_frames(video)
        return video

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        return self.clip.encode_images(self.frames(video), style="vbench")

    def protocol(self) -> dict[str, Any]:
        regions = {
            "full": "whole frames",
            "object": "objects on a neutral gray background (border-median background removed)",
            "background": "objects (dilated 1 px) painted over with the border-median background",
        }
        return {**self.clip.protocol(), "region": regions[self.region],
                "preprocessing": PREPROCESSING["vbench"].format(size=self.clip.image_size)}



def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    sd = torch.load(str(path), map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "teacher"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    return {k.removeprefix("module.").removeprefix("backbone."): v for k, v in sd.items()}


class DinoFeatures:
    """DINO ViT-B/16 CLS features (VBench subject consistency) from a local weights file."""

    name = "dino-vit-b-16"

    def __init__(self, weights: str | os.PathLike[str] | None, *, device: str = "cpu",
                 batch_size: int | None = None) -> None:
        import timm
        from timm.models.vision_transformer import checkpoint_filter_fn

        from vbench_lite.metrics.batching import frames_per_batch

        p = local_weights_file(weights, "DINO ViT-B/16 (subject consistency)", _HINT.format(option="--dino-weights"))
        self.model = timm.create_model(
            "vit_base_patch16_224.dino", pretrained=False, num_classes=0, dynamic_img_size=True
        )
        sd = checkpoint_filter_fn(_state_dict(p), self.model)
        missing, unexpected = self.model.load_state_dict(sd, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"DINO weights {p} do not fit vit_base_patch16_224.dino: missing {sorted(missing)[:5]}, "
                f"unexpected {sorted(unexpected)[:5]}"
            )
        self.model.eval().requires_grad_(False).to(device)
        # timm resamples the position embeddings with its own rule (antialiased bicubic to the
        # exact grid); DINO's rule differs on non-square grids, so the model uses DINO's
        self.model._pos_embed = types.MethodType(_dino_pos_embed, self.model)
        self.device, self.sha256 = device, sha256_file(p)
        self.batch_size = batch_size or frames_per_batch(self.name, device)

    def preprocess(self, frames: torch.Tensor) -> torch.Tensor:
        """VBench ``utils.dino_transform(224)``: ``Resize(224)`` (bilinear), /255, ImageNet norm."""
        import torchvision.transforms.functional as TF

        # on float frames, as VBench's load_video returns them (a uint8 resize would round)
        x = TF.resize(frames.float(), 224, antialias=False) / 255.0
        # DINO's stride-16 patch conv ignores the right/bottom remainder of a non-multiple side;
        # timm's dynamic size asserts instead, so drop the same pixels explicitly
        h, w = x.shape[-2:]
        x = x[..., : h - h % 16, : w - w % 16]
        return TF.normalize(x, IMAGENET_MEAN, IMAGENET_STD)

    @torch.no_grad()
    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        out = []
        for i in range(0, video.shape[0], self.batch_size):
            x = self.preprocess(video[i : i + self.batch_size]).to(self.device)
            out.append(self.model(x).float().cpu())
        return torch.cat(out)

    def protocol(self) -> dict[str, Any]:
        return {"backbone": self.name, "architecture": "timm vit_base_patch16_224.dino",
                "weights_sha256": self.sha256,
                "preprocessing": "shortest side -> 224 bilinear (float, no antialias), ImageNet mean/std "
                                 "(VBench dino_transform)",
                "position_embedding": "DINO interpolate_pos_encoding (bicubic, +0.1 scale offset)"}


def dino_interpolate_pos_encoding(pos_embed: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """DINO's ``VisionTransformer.interpolate_pos_encoding`` for a ``rows`` x ``cols`` patch grid.

    ``pos_embed`` ``[1, 1 + N, D]`` (class token first, a square grid of N patches). As in DINO
    (facebookresearch/dino ``vision_transformer.py``): unchanged for the native square grid;
    otherwise the patch embeddings are resized bicubically (no antialias) by the *scale factors*
    ``(rows + 0.1) / sqrt(N)`` and ``(cols + 0.1) / sqrt(N)`` (the 0.1 avoids a floating-point
    floor one short, dino issue #8); the sampling grid follows those factors, not the sizes.
    """
    n = pos_embed.shape[1] - 1
    side = int(math.sqrt(n))
    if rows == cols == side:
        return pos_embed
    cls, grid = pos_embed[:, :1], pos_embed[:, 1:]
    dim = grid.shape[-1]
    grid = torch.nn.functional.interpolate(
        grid.reshape(1, side, side, dim).permute(0, 3, 1, 2),
        scale_factor=((rows + 0.1) / side, (cols + 0.1) / side),
        mode="bicubic",
    )
    if tuple(grid.shape[-2:]) != (rows, cols):
        raise ValueError(f"DINO position-embedding interpolation gave {tuple(grid.shape[-2:])}, expected {(rows, cols)}")
    return torch.cat([cls, grid.permute(0, 2, 3, 1).reshape(1, -1, dim)], dim=1)


def _dino_pos_embed(self: Any, x: torch.Tensor) -> torch.Tensor:
    """timm ``VisionTransformer._pos_embed`` (dynamic size, class token) with DINO's resampling."""
    b, rows, cols, c = x.shape
    x = torch.cat([self.cls_token.expand(b, -1, -1), x.reshape(b, -1, c)], dim=1)
    return self.pos_drop(x + dino_interpolate_pos_encoding(self.pos_embed, rows, cols))


def _princeton_bilinear_sampler(img: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """RAFT's ``bilinear_sampler`` (princeton-vl/RAFT ``core/utils/utils.py``, vendored by VBench as
    ``vbench/third_party/RAFT``): pixel coordinates normalised by ``(W - 1)`` and ``(H - 1)``, both
    always. torchvision skips the y normalisation of a one-row level, which matters for frames 64 to
    127 px high (their coarsest correlation level is one row)."""
    h, w = img.shape[-2:]
    x, y = coords.split([1, 1], dim=-1)
    grid = torch.cat([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], dim=-1)
    return torch.nn.functional.grid_sample(img, grid, align_corners=True)


class PrincetonCorrBlock(torch.nn.Module):
    """torchvision's RAFT correlation block as the original RAFT (which VBench runs) builds and reads
    it, so frames under 128 px work: torchvision refuses a coarsest level under 2x2 (its
    ``build_pyramid`` check), the original pools the all-pairs volume ``num_levels - 1`` times
    whatever its size (at 64 px the coarsest level is 1x1; ``grid_sample`` then reads zeros there,
    in both implementations alike). ``block`` is torchvision's block (its all-pairs volume is reused)."""

    def __init__(self, block: torch.nn.Module) -> None:
        super().__init__()
        self.block, self.num_levels, self.radius = block, block.num_levels, block.radius
        self.out_channels = block.out_channels
        self.corr_pyramid: list[torch.Tensor] = []

    def build_pyramid(self, fmap1: torch.Tensor, fmap2: torch.Tensor) -> None:
        corr = self.block._compute_corr_volume(fmap1, fmap2)
        b, h, w, c = corr.shape[:4]
        corr = corr.reshape(b * h * w, c, h, w)
        self.corr_pyramid = [corr]
        for _ in range(self.num_levels - 1):  # original RAFT CorrBlock.__init__
            corr = torch.nn.functional.avg_pool2d(corr, kernel_size=2, stride=2)
            self.corr_pyramid.append(corr)

    def index_pyramid(self, centroids_coords: torch.Tensor) -> torch.Tensor:
        r = self.radius
        d = torch.linspace(-r, r, 2 * r + 1, device=centroids_coords.device)
        delta = torch.stack(torch.meshgrid(d, d, indexing="ij"), dim=-1).view(1, 2 * r + 1, 2 * r + 1, 2)
        b, _, h, w = centroids_coords.shape
        coords = centroids_coords.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
        out = [_princeton_bilinear_sampler(corr, coords / 2**i + delta).view(b, h, w, -1)
               for i, corr in enumerate(self.corr_pyramid)]
        return torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous()


MIN_RAFT_SIZE = 64  # padded frame side: 1/8 feature maps pooled 3 times down to 1 px


class RaftFlow:
    """torchvision RAFT-large flow (VBench dynamic degree) from a local weights file."""

    name = "raft-large"

    def __init__(self, weights: str | os.PathLike[str] | None, *, device: str = "cpu", updates: int = 20) -> None:
        from torchvision.models.optical_flow import raft_large

        p = local_weights_file(weights, "RAFT (dynamic degree)", _HINT.format(option="--raft-weights"))
        self.model = raft_large(weights=None, progress=False)
        self.model.load_state_dict(_state_dict(p))
        self.model.corr_block = PrincetonCorrBlock(self.model.corr_block)
        self.model.eval().requires_grad_(False).to(device)
        self.device, self.updates, self.sha256 = device, updates, sha256_file(p)
        self._warned = False

    @torch.no_grad()
    def __call__(self, frames0: torch.Tensor, frames1: torch.Tensor) -> torch.Tensor:
        self._check(*frames0.shape[-2:])
        return self.model(self._prep(frames0), self._prep(frames1), num_flow_updates=self.updates)[-1].float().cpu()

    def _check(self, h: int, w: int) -> None:
        # RAFT's InputPadder ("sintel" mode): replicate-pad to a multiple of 8. VBench scores the
        # flow of the padded frames (DynamicDegree.infer never unpads), so the flow is returned
        # at the padded size; the threshold still uses the unpadded frame size, as VBench's does
        side = min(h + (-h) % 8, w + (-w) % 8)
        if side < MIN_RAFT_SIZE:
            raise ValueError(f"RAFT needs frames of at least {MIN_RAFT_SIZE} px once padded to a multiple of 8 "
                             f"(its 4-level correlation pyramid; VBench's RAFT fails the same way), got {h}x{w}; "
                             "use the embedded protocol (Farneback flow) for smaller videos")
        if side < 128 and not self._warned:
            self._warned = True
            logger.warning("RAFT on %dx%d frames: the coarsest correlation level is 1 px, where RAFT's sampler "
                           "divides by zero, so the flow is NaN and every pair is static, in VBench's RAFT and "
                           "here alike (dynamic degree 0)", h, w)

    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 8, (-w) % 8
        x = x.float().to(self.device) / 127.5 - 1.0  # torchvision RAFT expects [-1, 1]
        return torch.nn.functional.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="replicate")

    @torch.no_grad()
    def consecutive(self, frames: torch.Tensor) -> torch.Tensor:
        """The flow from each frame to the next, ``[T - 1, 2, H', W']``: the same numbers as
        ``self(frames[:-1], frames[1:])`` (torchvision's ``RAFT.forward``, step by step) with each
        frame's feature encoding computed once instead of twice (its instance norm is per image), as
        VBench's pairwise loop cannot; that encoder is ~15% of RAFT-large's time at 224 px."""
        from torchvision.models.optical_flow.raft import make_coords_grid, upsample_flow

        self._check(*frames.shape[-2:])
        m, x = self.model, self._prep(frames)
        fmaps = m.feature_encoder(x)
        m.corr_block.build_pyramid(fmaps[:-1], fmaps[1:])
        ctx = m.context_encoder(x[:-1])
        hs = m.update_block.hidden_state_size
        hidden, context = torch.split(ctx, [hs, ctx.shape[1] - hs], dim=1)
        hidden, context = torch.tanh(hidden), torch.relu(context)
        n, _, h8, w8 = fmaps[:-1].shape
        coords0 = make_coords_grid(n, h8, w8).to(x.device)
        coords1 = coords0.clone()
        for _ in range(self.updates):
            corr = m.corr_block.index_pyramid(centroids_coords=coords1)
            hidden, delta = m.update_block(hidden, context, corr, coords1 - coords0)
            coords1 = coords1 + delta
        up_mask = None if m.mask_predictor is None else m.mask_predictor(hidden)
        return upsample_flow(flow=coords1 - coords0, up_mask=up_mask).float().cpu()

    def protocol(self) -> dict[str, Any]:
        return {"flow": self.name, "weights_sha256": self.sha256, "flow_updates": self.updates,
                "padding": "replicate to a multiple of 8; the padded flow is scored (VBench)",
                "correlation": "the original RAFT's pyramid and sampler, as VBench's vendored RAFT: frames of "
                               "64-127 px get NaN flow (a 1 px level), scored static as in VBench"}


AMT_MODULE = "vbench.third_party.amt.networks.AMT-S"
AMT_PARAMS = {"corr_radius": 3, "corr_lvls": 4, "num_flows": 3}  # VBench's AMT-S.yaml network params


def build_amt_s() -> torch.nn.Module:
    """A randomly initialised AMT-S (Li et al. 2023, "AMT: All-Pairs Multi-Field Transforms"), the
    network code from the ``vbench`` package (VBench ships AMT as ``vbench.third_party.amt``;
    install it with ``pip install --no-deps vbench``; its other dependencies are not needed here)."""
    import importlib
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        module = importlib.import_module(AMT_MODULE)
    except ImportError as exc:
        raise ImportError(
            f"AMT-S motion smoothness needs the network code of the vbench package ({exc}); "
            "install it with `pip install --no-deps vbench==0.1.5` (nothing else of it is used)"
        ) from exc
    finally:  # vbench.utils calls logging.basicConfig at import: leave the root logger as it was
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)
    return module.Model(**AMT_PARAMS)


class AmtInterpolator:
    """AMT-S midpoint interpolation of two uint8 frames (VBench motion smoothness), weights from a
    local file (VBench's ``amt-s.pth``: ``{"state_dict": ...}``).

    As ``vbench/motion_smoothness.py`` at scale 1 (its CPU setting, and any GPU with enough
    memory): frames /255, replicate-padded to a multiple of 16 (AMT's ``InputPadder``, centred),
    ``model(f0, f1, embt=0.5, scale_factor=1, eval=True)["imgt_pred"]``, unpadded, x255, clipped
    and truncated to uint8 (``tensor2img``'s ``astype(np.uint8)``, not rounded).
    """

    name = "amt-s"

    def __init__(self, weights: str | os.PathLike[str] | None, *, device: str = "cpu") -> None:
        p = local_weights_file(weights, "AMT-S (motion smoothness)", _HINT.format(option="--amt-weights"))
        self.model = build_amt_s()
        missing, unexpected = self.model.load_state_dict(_state_dict(p), strict=False)
        if missing or unexpected:
            raise ValueError(f"AMT-S weights {p} do not fit AMT-S: missing {sorted(missing)[:5]}, "
                             f"unexpected {sorted(unexpected)[:5]}")
        self.model.eval().requires_grad_(False).to(device)
        self.device, self.sha256 = device, sha256_file(p)

    @torch.no_grad()
    def __call__(self, frame0: torch.Tensor, frame1: torch.Tensor) -> torch.Tensor:
        h, w = frame0.shape[-2:]
        ph, pw = (-h) % 16, (-w) % 16
        pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)

        def prep(x: torch.Tensor) -> torch.Tensor:
            x = x[None].float().to(self.device) / 255.0
            return torch.nn.functional.pad(x, pad, mode="replicate")

        embt = torch.full((1, 1, 1, 1), 0.5, device=self.device)
        mid = self.model(prep(frame0), prep(frame1), embt, scale_factor=1.0, eval=True)["imgt_pred"]
        mid = mid[0, :, pad[2] : pad[2] + h, pad[0] : pad[0] + w].cpu()
        return (mid * 255.0).clamp(0, 255).to(torch.uint8)  # truncation, as tensor2img

    def protocol(self) -> dict[str, Any]:
        return {"interpolation": "AMT-S (VBench motion smoothness)", "backbone": self.name,
                "weights_sha256": self.sha256, "network_code": AMT_MODULE,
                "scale_factor": 1.0, "padding": "replicate to a multiple of 16"}
