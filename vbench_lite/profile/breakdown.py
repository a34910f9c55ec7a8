"""Per-module, per-operator breakdown of one denoiser call with fvcore's ``FlopCountAnalysis``.

fvcore traces the module with ``torch.jit.trace`` and counts one multiply-accumulate as one "flop"
(``fvcore/nn/jit_handles.py``: "multiply-add counted as one flop"), so every fvcore number is doubled
here into the harness's FLOP unit (2 per multiply-accumulate). fvcore has no handle for
``aten::scaled_dot_product_attention``; :func:`sdpa_mac_jit` adds one (and one for ``baddbmm``).

The dense ops (matmul, linear, convolution, einsum, attention) are the ones torch's counter counts
too; :func:`denoiser_breakdown` checks the two agree. fvcore's estimates for norms, upsampling and
pooling (which torch's counter does not count) are kept apart in ``norm_elementwise``, and the ops
neither counts (additions, activations, ...) are listed by name in ``uncounted_ops``.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from dataclasses import dataclass
from math import prod
from typing import Any

import torch

from vbench_lite.profile.flops import UNIT, count_flops

logger = logging.getLogger(__name__)

MAC_TO_FLOP = 2
# fvcore operator names (after its renaming, e.g. aten::_convolution -> "conv") of dense ops.
DENSE_OPERATORS = frozenset({
    "addmm", "bmm", "baddbmm", "conv", "einsum", "matmul", "mm", "linear", "scaled_dot_product_attention",
})


def sdpa_mac_jit(inputs: list[Any], outputs: list[Any]) -> int:
    """fvcore handle for ``aten::scaled_dot_product_attention``: MACs of ``Q K^T`` and ``A V``."""
    from fvcore.nn.jit_handles import get_shape

    q, k, v = (get_shape(x) for x in inputs[:3])
    *lead, tq, d = q
    return prod(lead) * tq * k[-2] * d + prod(lead) * tq * k[-2] * v[-1]


def baddbmm_mac_jit(inputs: list[Any], outputs: list[Any]) -> int:
    from fvcore.nn.jit_handles import get_shape

    b, m, k = get_shape(inputs[1])
    return b * m * k * get_shape(inputs[2])[-1]


@dataclass(frozen=True)
class DenoiserBreakdown:
    """One denoiser call, in FLOP: fvcore's dense counts by module and operator, torch's total."""

    by_module: dict[str, int]  # dense FLOPs per module path ("" is the whole denoiser)
    by_operator: dict[str, int]  # dense FLOPs per operator
    norm_elementwise: dict[str, int]  # fvcore's estimates for norms, upsampling, pooling
    uncounted_ops: dict[str, int]  # op name -> times it ran without any count
    params_by_module: dict[str, int]
    torch_total: int  # torch.utils.flop_counter on the same call
    unit: str = UNIT

    @property
    def dense_total(self) -> int:
        return sum(self.by_operator.values())

    @property
    def agreement(self) -> float:
        """fvcore's dense total over torch's total (1.0 is perfect agreement)."""
        return self.dense_total / self.torch_total if self.torch_total else float("nan")

    def table(self, max_depth: int = 2) -> str:
        """A printable table: module, parameters, dense FLOPs, share of the call."""
        from tabulate import tabulate

        rows = []
        for name, flops in self.by_module.items():
            depth = 0 if name == "" else name.count(".") + 1
            if depth > max_depth:
                continue
            share = flops / self.dense_total if self.dense_total else 0.0
            rows.append(("  " * depth + (name or "(denoiser)"), self.params_by_module.get(name, 0), flops, f"{share:.1%}"))
        return tabulate(rows, headers=("module", "params", f"dense {self.unit}", "share"), intfmt=",")

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "counter": "fvcore.nn.FlopCountAnalysis (MACs x 2)",
            "dense_total": self.dense_total,
            "torch_total": self.torch_total,
            "agreement": self.agreement,
            "by_operator": dict(self.by_operator),
            "by_module": dict(self.by_module),
            "norm_elementwise_estimate": dict(self.norm_elementwise),
            "uncounted_ops": dict(self.uncounted_ops),
        }


def denoiser_breakdown(module: torch.nn.Module, inputs: tuple[Any, ...]) -> DenoiserBreakdown:
    """Break one call ``module(*inputs)`` down by module and operator (fvcore), checked against torch."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation and tracer warnings
        from fvcore.nn import FlopCountAnalysis

        analysis = (
            FlopCountAnalysis(module, inputs)
            .set_op_handle("aten::scaled_dot_product_attention", sdpa_mac_jit, "aten::baddbmm", baddbmm_mac_jit)
            .unsupported_ops_warnings(False)
            .uncalled_modules_warnings(False)
            .tracer_warnings("none")
        )
        per_module = analysis.by_module_and_operator()
        uncounted = dict(analysis.unsupported_ops())
        torch_total = count_flops(lambda: module(*inputs)).total

    by_module: dict[str, int] = {}
    by_operator: dict[str, int] = defaultdict(int)
    extra: dict[str, int] = defaultdict(int)
    for name, ops in per_module.items():
        dense = sum(v for op, v in ops.items() if op in DENSE_OPERATORS)
        if dense:
            by_module[name] = int(dense * MAC_TO_FLOP)
    for op, v in per_module.get("", {}).items():
        (by_operator if op in DENSE_OPERATORS else extra)[op] += int(v * MAC_TO_FLOP)
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in module.named_modules()}
    result = DenoiserBreakdown(
        by_module=by_module,
        by_operator=dict(sorted(by_operator.items(), key=lambda kv: -kv[1])),
        norm_elementwise=dict(extra),
        uncounted_ops=uncounted,
        params_by_module=params,
        torch_total=torch_total,
    )
    if torch_total and abs(result.agreement - 1.0) > 0.01:
        logger.warning(
            "fvcore and torch disagree on one denoiser call by more than 1%%: %d vs %d %s",
            result.dense_total, torch_total, UNIT,
        )
    return result
