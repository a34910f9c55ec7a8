"""FLOP formulas for the attention, convolution and matmul ops torch can dispatch to.

``torch.utils.flop_counter`` ships formulas for ``mm``, ``addmm``, ``bmm``, ``baddbmm``, the generic
``convolution`` ops and the CUDA attention kernels. Everything else contributes zero, silently: on
CPU, ``scaled_dot_product_attention`` lowers to ``_scaled_dot_product_flash_attention_for_cpu``
(checked on torch 2.14), which torch's registry lacks, so attention would count as nothing.
:data:`EXTRA_FORMULAS` fills those gaps and :func:`is_dense_op` names the op families whose
execution without a formula must be an error rather than a silent zero.

Conventions (the same as torch's own formulas, ``torch/utils/flop_counter.py``):
- 2 FLOPs per multiply-accumulate; biases, scaling and softmax are not counted;
- matmul ``[m, k] @ [k, n]``: ``2 m n k``; ``addr`` is a matmul with ``k = 1`` (``outer`` is
  composite: it runs as a broadcast multiply, which is element-wise and not counted);
- convolution: ``2 * batch * prod(output spatial) * prod(weight shape)`` (the weight shape already
  holds ``C_in / groups``); a transposed convolution uses the *input* spatial size instead;
- attention ``softmax(Q K^T) V`` with ``Q [.., Tq, d]``, ``K [.., Tk, d]``, ``V [.., Tk, dv]``:
  ``2 * B' Tq Tk d + 2 * B' Tq Tk dv`` where ``B'`` is the product of the query's leading dims
  (batch x heads), i.e. ``4 * B * heads * Tq * Tk * d`` for ``dv = d``. Masks and causality do not
  reduce the count (torch's ``sdpa_flop`` makes the same choice).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod
from typing import Any

import torch

aten = torch.ops.aten

Shape = Sequence[int]


# -- shared arithmetic --------------------------------------------------------------------------
def matmul_flops(m: int, k: int, n: int, batch: int = 1) -> int:
    """``batch`` products of ``[m, k] @ [k, n]``."""
    return 2 * batch * m * k * n


def conv_flops(x_shape: Shape, w_shape: Shape, out_shape: Shape, transposed: bool = False) -> int:
    """Convolution of any dimensionality, grouped, depthwise or transposed; unbatched input allowed."""
    nd = len(w_shape) - 2
    ref = x_shape if transposed else out_shape  # the positions the kernel is applied at
    batch = prod(ref[: len(ref) - nd - 1])
    return 2 * batch * prod(ref[len(ref) - nd :]) * prod(w_shape)


def attention_flops(q_shape: Shape, k_shape: Shape, v_shape: Shape) -> int:
    """``Q K^T`` plus ``A V``; grouped-query attention (fewer K/V heads) counts per query head."""
    *lead, tq, d = q_shape
    tk, dv = k_shape[-2], v_shape[-1]
    if k_shape[-1] != d or v_shape[-2] != tk:
        raise ValueError(f"attention shapes do not match: q={tuple(q_shape)} k={tuple(k_shape)} v={tuple(v_shape)}")
    kv_lead = list(k_shape[:-2])
    try:
        batch = prod(torch.broadcast_shapes(tuple(lead), tuple(kv_lead)))
    except RuntimeError:  # grouped-query attention: K/V heads divide the query heads
        batch = prod(lead)
    return 2 * batch * tq * tk * d + 2 * batch * tq * tk * dv


# -- attention -----------------------------------------------------------------------------------
def _sdpa(query: Shape, key: Shape, value: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return attention_flops(query, key, value)


def _native_mha(query: Shape, key: Shape, value: Shape, embed_dim: int, num_head: int,
                *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """``nn.MultiheadAttention``'s fast path: in-projections, attention, out-projection.

    ``query [B, Tq, E]``, ``key``/``value [B, Tk, E]`` (the fast path needs ``batch_first``).
    """
    e = embed_dim
    b, tq = prod(query[:-2]), query[-2]
    tk = key[-2]
    projections = matmul_flops(b * tq, e, e) + 2 * matmul_flops(b * tk, e, e) + matmul_flops(b * tq, e, e)
    return projections + attention_flops((b, tq, e), (b, tk, e), (b, tk, e))


def _transformer_encoder_layer(src: Shape, embed_dim: int, num_heads: int, *args: Any,
                               out_shape: Any = None, **kwargs: Any) -> int:
    """``nn.TransformerEncoderLayer``'s fast path: self-attention block + two-layer MLP."""
    ffn_weight_1 = args[11]  # schema: qkv_w, qkv_b, proj_w, proj_b, use_gelu, norm_first, eps, n1w, n1b, n2w, n2b, ffn_w1
    e, hidden = embed_dim, ffn_weight_1[0]
    b, t = prod(src[:-2]), src[-2]
    mlp = matmul_flops(b * t, e, hidden) + matmul_flops(b * t, hidden, e)
    return _native_mha(src, src, src, embed_dim, num_heads) + mlp


# -- convolution ---------------------------------------------------------------------------------
def _conv(x: Shape, w: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return conv_flops(x, w, out_shape, transposed=False)


def _conv_transposed(x: Shape, w: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return conv_flops(x, w, out_shape, transposed=True)


def _conv_tbc(x: Shape, w: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """Time-batch-channel 1D convolution: ``x [T, B, Cin]``, ``w [K, Cin, Cout]``, ``out [T', B, Cout]``."""
    return 2 * out_shape[0] * out_shape[1] * prod(w)


# -- matmul --------------------------------------------------------------------------------------
def _mv(mat: Shape, vec: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return matmul_flops(mat[0], mat[1], 1)


def _addmv(self_: Shape, mat: Shape, vec: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return _mv(mat, vec)


def _dot(a: Shape, b: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return matmul_flops(1, a[0], 1)


def _addr(self_: Shape, a: Shape, b: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return matmul_flops(a[0], 1, b[0])


def _addbmm(self_: Shape, b1: Shape, b2: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return matmul_flops(b1[1], b1[2], b2[2], batch=b1[0])


def _baddbmm_inplace(self_: Shape, b1: Shape, b2: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return matmul_flops(b1[1], b1[2], b2[2], batch=b1[0])


def _mm_like(a: Shape, b: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """``a [m, k]`` times a (possibly packed) weight; the output ``[m, n]`` gives ``n``."""
    return matmul_flops(prod(out_shape[:-1]), a[-1], out_shape[-1])


def _addmm_like(self_: Shape, a: Shape, b: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return matmul_flops(a[0], a[1], b[1])


def _linear_like(x: Shape, w: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """``x [..., in]`` times ``w [out, in]``."""
    return matmul_flops(prod(x[:-1]), x[-1], w[0])


def _packets(*names: str) -> list[Any]:
    """The op packets of ``names`` that this torch build has (CUDA/MPS-only ops may be absent)."""
    return [getattr(aten, n) for n in names if hasattr(aten, n)]


_GROUPS: list[tuple[list[Any], Callable[..., int]]] = [
    (_packets(
        "_scaled_dot_product_flash_attention_for_cpu",  # what CPU sdpa dispatches to
        "_scaled_dot_product_attention_math",  # the reference path (all devices)
        "_scaled_dot_product_attention_math_for_mps",
        "_scaled_dot_product_fused_attention_overrideable",
    ), _sdpa),
    (_packets("_native_multi_head_attention"), _native_mha),
    (_packets("_transformer_encoder_layer_fwd"), _transformer_encoder_layer),
    (_packets(
        "mkldnn_convolution", "slow_conv3d_forward", "slow_conv3d", "slow_conv_dilated2d",
        "slow_conv_dilated3d", "thnn_conv2d", "_conv_depthwise2d", "conv_depthwise3d",
        "cudnn_convolution_relu", "miopen_convolution", "miopen_depthwise_convolution",
        "mps_convolution",
    ), _conv),
    (_packets(
        "slow_conv_transpose2d", "slow_conv_transpose3d", "cudnn_convolution_transpose",
        "miopen_convolution_transpose", "_mps_convolution_transpose",
    ), _conv_transposed),
    (_packets("conv_tbc"), _conv_tbc),
    (_packets("mv"), _mv),
    (_packets("addmv"), _addmv),
    (_packets("dot", "vdot"), _dot),
    (_packets("addr"), _addr),
    (_packets("addbmm", "addbmm_"), _addbmm),
    (_packets("addmv_"), _addmv),
    (_packets("_addmm_activation", "addmm_"), _addmm_like),  # in-place forms are packets of their own
    (_packets("baddbmm_"), _baddbmm_inplace),
    (_packets(
        "_int_mm", "_weight_int8pack_mm", "_weight_int4pack_mm", "_weight_int4pack_mm_for_cpu",
        "_weight_int4pack_mm_with_scales_and_zeros", "_dyn_quant_matmul_4bit", "_scaled_mm_v2",
    ), _mm_like),
    (_packets("mkldnn_linear"), _linear_like),
]

EXTRA_FORMULAS: dict[Any, Callable[..., int]] = {p: f for packets, f in _GROUPS for p in packets}

# Words that mark an op as dense linear algebra (the ops that dominate a network's cost). An op
# whose name holds one of them and that *executes* (does not decompose into counted ops) without a
# formula is an error, so a new kernel never silently counts as zero.
DENSE_WORDS = frozenset({
    "mm", "bmm", "addmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot", "addr", "outer", "ger",
    "matmul", "linear", "bilinear", "trilinear", "einsum", "tensordot",
    "conv", "conv1d", "conv2d", "conv3d", "convolution", "depthwise2d", "depthwise3d",
    "attention", "transformer", "rnn", "lstm", "gru",
})


def op_name(packet: Any) -> str:
    """``aten.mm`` -> ``"mm"``; other namespaces keep their prefix (``"mylib.foo"``)."""
    qual = getattr(packet, "_qualified_op_name", None) or str(packet)
    ns, _, name = qual.partition("::")
    return name if ns == "aten" else qual.replace("::", ".")


def is_dense_op(packet: Any) -> bool:
    """Whether ``packet`` belongs to the matmul, convolution or attention families."""
    name = op_name(packet).rsplit(".", 1)[-1]
    return any(word in DENSE_WORDS for word in name.strip("_").split("_"))
