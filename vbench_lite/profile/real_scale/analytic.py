"""Closed-form FLOPs of one DiT block, the reference the meta-device count is tested against.

A pre-norm transformer block with self-attention over ``L`` tokens of width ``d``, optional
cross-attention to ``Lc`` context tokens (already projected to width ``d``, as Wan, PixArt and LTX
do) and a two-layer MLP of hidden width ``f``, at 2 FLOPs per multiply-accumulate:
- projections: self-attention Q, K, V, out ``4 * 2 L d^2``; cross-attention Q and out ``2 * 2 L d^2``,
  K and V ``2 * 2 Lc d^2``;
- attention: ``Q K^T`` and ``A V`` over all heads, ``4 L^2 d`` (self) and ``4 L Lc d`` (cross);
- MLP: ``2 * 2 L d f``.
Norms, modulation, RoPE, biases and activations are element-wise and not counted (as everywhere in
the harness, :mod:`vbench_lite.profile.formulas`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlockFlops:
    projections: int
    attention: int
    mlp: int

    @property
    def total(self) -> int:
        return self.projections + self.attention + self.mlp


def dit_block_flops(tokens: int, dim: int, mlp_hidden: int, context_tokens: int = 0, batch: int = 1) -> BlockFlops:
    """One block's FLOPs on ``batch`` sequences of ``tokens`` (see the module docstring)."""
    n, d, c = tokens, dim, context_tokens
    projections = 4 * 2 * n * d * d
    attention = 4 * n * n * d
    if c:
        projections += 2 * 2 * n * d * d + 2 * 2 * c * d * d
        attention += 4 * n * c * d
    mlp = 2 * 2 * n * d * mlp_hidden
    return BlockFlops(batch * projections, batch * attention, batch * mlp)
