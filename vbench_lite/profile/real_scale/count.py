"""FLOPs of one call of a meta-device module, split into attention, convolution and matmul.

The total comes from :func:`vbench_lite.profile.count_flops` (torch's dispatch-level counter with
the harness's formulas). On the meta device ``scaled_dot_product_attention`` decomposes into two
``bmm`` calls, indistinguishable from other batched matmuls at dispatch level, so the attention
share is taken analytically one level up: a ``TorchFunctionMode`` sees every
``F.scaled_dot_product_attention`` call with its shapes and adds
:func:`~vbench_lite.profile.formulas.attention_flops` (``4 * batch * heads * Lq * Lk * d``). Attention
written out as plain matmuls (T5's relative-position attention, for one) stays in ``matmul``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from vbench_lite.profile.flops import UNIT, count_flops
from vbench_lite.profile.formulas import attention_flops

_CONV_OPS = frozenset({"convolution", "conv_tbc"})


class AttentionRecorder(TorchFunctionMode):
    """Adds up the analytic FLOPs of every ``scaled_dot_product_attention`` call it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0
        self.calls = 0

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            q = args[0] if args else kwargs["query"]
            k = args[1] if len(args) > 1 else kwargs["key"]
            v = args[2] if len(args) > 2 else kwargs["value"]
            self.flops += attention_flops(q.shape, k.shape, v.shape)
            self.calls += 1
        return func(*args, **kwargs)


@dataclass(frozen=True)
class CallCost:
    """One forward call, in FLOP (2 per multiply-accumulate)."""

    total: int
    attention: int  # Q K^T and A V of every scaled_dot_product_attention call
    convolution: int
    by_operator: dict[str, int]
    unit: str = UNIT

    @property
    def matmul(self) -> int:
        """Projections, MLPs, embeddings: everything that is neither attention nor convolution."""
        return self.total - self.attention - self.convolution

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "total": self.total, "attention": self.attention, "matmul": self.matmul,
                "convolution": self.convolution, "by_operator": dict(self.by_operator)}


def count_call(fn: Callable[[], Any]) -> CallCost:
    """Run ``fn()`` once (inputs and modules on the meta device) and split its FLOPs."""
    recorder = AttentionRecorder()
    with torch.no_grad(), recorder:
        report = count_flops(fn)
    conv = sum(v for k, v in report.by_operator.items() if k in _CONV_OPS)
    if recorder.flops > report.total - conv:
        raise RuntimeError(f"attention FLOPs {recorder.flops} exceed the counted matmul FLOPs {report.total - conv}: "
                           "an attention kernel ran without being counted")
    return CallCost(report.total, recorder.flops, conv, dict(report.by_operator))


def parameter_count(module: torch.nn.Module, skip_prefixes: tuple[str, ...] = ()) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if not n.startswith(skip_prefixes))
