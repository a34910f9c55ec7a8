"""The papers' recipes as documented transformations of a baseline schedule or architecture.

These are *projections of each paper's recipe*, not measurements of the harness's methods:
- **SnapGen-V** (Wu et al., arXiv 2412.10494): adversarial fine-tuning to 4 denoising steps without
  classifier-free guidance, compared against 50-step CFG baselines -> :func:`snapgen_v_schedule`.
- **VDMini** (Wu et al., arXiv 2411.18375): "we prune redundant blocks from the shallower layers
  while preserving more of the deeper layers". In a UNet the shallow layers are the
  high-resolution levels; :func:`vdmini_architecture` removes one block from the down path and one
  from the up path of each level the configuration lists as shallow (``levels.shallow``). A DiT has
  a single resolution and no levels, so the recipe has no counterpart there (``None``).
- **SNED** (supernet of width / depth subnets): :func:`sned_architecture` scales the denoiser's width
  (attention heads at a fixed head size, MLP width; UNet channels) and depth (blocks) through its
  configuration.
"""

from __future__ import annotations

from typing import Any

from vbench_lite.profile.real_scale.architecture import Architecture
from vbench_lite.profile.real_scale.schedule import SamplingSchedule

SNAPGEN_V_STEPS = 4


def snapgen_v_schedule() -> SamplingSchedule:
    return SamplingSchedule.single(SNAPGEN_V_STEPS, cfg=False, label="snapgen-v (projection)")


def vdmini_architecture(arch: Architecture) -> Architecture | None:
    """One block fewer in the down and the up path of every shallow level, or ``None`` for an
    architecture without levels (a DiT)."""
    levels = arch.levels
    if not levels:
        return None
    cfg = dict(arch.denoiser["config"])
    per_level = cfg["layers_per_block"]
    per_level = list(per_level) if isinstance(per_level, list) else [per_level] * levels["count"]
    for lv in levels["shallow"]:
        if per_level[lv] < 2:
            raise ValueError(f"{arch.name}: level {lv} has {per_level[lv]} block(s); none can be removed")
        per_level[lv] -= 1
    cfg["layers_per_block"] = per_level  # diffusers UNets give each up level one block more than its down level
    return arch.with_denoiser_config(cfg, f"vdmini: one block fewer in the down and up paths of levels {levels['shallow']}")


def _scaled(x: int, s: float, multiple: int = 1) -> int:
    return max(multiple, round(x * s / multiple) * multiple)


def sned_architecture(arch: Architecture, width: float = 1.0, depth: float = 1.0) -> Architecture:
    """The denoiser at ``width`` x its width and ``depth`` x its blocks (the head size is kept)."""
    if not (0 < width <= 1 and 0 < depth <= 1):
        raise ValueError(f"SNED multipliers must lie in (0, 1], got width {width}, depth {depth}")
    cfg: dict[str, Any] = dict(arch.denoiser["config"])
    if arch.family == "animatediff":
        groups = cfg["norm_num_groups"]
        cfg["block_out_channels"] = [_scaled(c, width, groups) for c in cfg["block_out_channels"]]
        per_level = cfg["layers_per_block"]
        cfg["layers_per_block"] = ([_scaled(n, depth) for n in per_level] if isinstance(per_level, list)
                                   else _scaled(per_level, depth))
    else:
        heads = cfg["num_attention_heads"]
        inner = heads * cfg["attention_head_dim"]
        cfg["num_attention_heads"] = _scaled(heads, width)
        if "ffn_dim" in cfg:  # Wan states its MLP width; the others derive it from the inner width
            cfg["ffn_dim"] = _scaled(cfg["ffn_dim"], width, 64)
        if cfg.get("cross_attention_dim") == inner:  # LTX: cross-attention runs at the inner width
            cfg["cross_attention_dim"] = cfg["num_attention_heads"] * cfg["attention_head_dim"]
        for key in ("num_layers", "num_single_layers"):
            if key in cfg:
                cfg[key] = _scaled(cfg[key], depth)
    return arch.with_denoiser_config(cfg, f"sned: width x{width:g}, depth x{depth:g}")
