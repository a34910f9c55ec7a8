"""FLOPs of everything that executes inside a call: ``count_flops(fn) -> FlopReport``.

Built on ``torch.utils.flop_counter.FlopCounterMode`` (a ``TorchDispatchMode``, so it sees every
op that actually runs: each sampler step, both CFG passes, every stage) with the formulas of
:mod:`vbench_lite.profile.formulas` added. Counts are split by :func:`~vbench_lite.profile.stage`,
by operator, by module, and per call of an optional denoiser module. The unit is FLOP
(2 per multiply-accumulate) and is stored next to every number.

An op of the matmul, convolution or attention families that runs without a formula raises
:class:`UncountedOpError` instead of counting zero.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

from vbench_lite.profile.formulas import EXTRA_FORMULAS, is_dense_op, op_name
from vbench_lite.profile.stages import current_stage

logger = logging.getLogger(__name__)

UNIT = "FLOP"
UNSTAGED = "unstaged"  # FLOPs that ran outside every stage() block

class UncountedOpError(RuntimeError):
    """A matmul, convolution or attention op ran with no FLOP formula."""


@dataclass(frozen=True)
class FlopReport:
    """FLOPs of one call; every number is in :attr:`unit` (2 FLOPs per multiply-accumulate)."""

    total: int
    by_stage: dict[str, int]
    by_operator: dict[str, int]
    by_module: dict[str, int]
    denoiser_calls: tuple[int, ...] = ()  # FLOPs of each denoiser forward, in call order
    unit: str = UNIT
    # storages every op read or wrote (to tell which parameters take part in inference)
    touched_storages: frozenset[int] = field(default=frozenset(), repr=False, compare=False)

    @property
    def per_denoiser_call(self) -> int | None:
        """The FLOPs of one denoiser call when all calls cost the same, else None."""
        distinct = set(self.denoiser_calls)
        return distinct.pop() if len(distinct) == 1 else None

    @property
    def denoiser_total(self) -> int:
        return sum(self.denoiser_calls)

    def scaled(self, divisor: int) -> FlopReport:
        """Every count divided by ``divisor`` (e.g. the batch size, for FLOPs per video)."""

        def div(x: int) -> int:
            # exact when the work is per-video (the usual case); a fraction when a batch shares work
            return x // divisor if x % divisor == 0 else x / divisor  # type: ignore[return-value]

        return dataclasses.replace(
            self,
            total=div(self.total),
            by_stage={k: div(v) for k, v in self.by_stage.items()},
            by_operator={k: div(v) for k, v in self.by_operator.items()},
            by_module={k: div(v) for k, v in self.by_module.items()},
            denoiser_calls=tuple(div(v) for v in self.denoiser_calls),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "total": self.total,
            "by_stage": dict(self.by_stage),
            "by_operator": dict(self.by_operator),
            "by_module": dict(self.by_module),
            "denoiser_calls": len(self.denoiser_calls),
            "per_denoiser_call": self.per_denoiser_call,
            "denoiser_call_flops": list(self.denoiser_calls),
            "denoiser_total": self.denoiser_total,
        }


class StagedFlopCounter(FlopCounterMode):
    """``FlopCounterMode`` plus the extra formulas, stage attribution and the loud-failure check."""

    def __init__(self, extra: dict[Any, Callable[..., int]] | None = None) -> None:
        super().__init__(display=False, custom_mapping={**EXTRA_FORMULAS, **(extra or {})})
        self.total = 0
        self.by_stage: dict[str, int] = defaultdict(int)
        self.by_operator: dict[str, int] = defaultdict(int)
        self.touched: set[int] = set()

    def __enter__(self) -> StagedFlopCounter:
        self.total = 0
        self.by_stage.clear()
        self.by_operator.clear()
        self.touched.clear()
        super().__enter__()
        return self

    # Called by FlopCounterMode's dispatch mode for every op that executes (ops that decompose
    # into other ops reach here only through their parts).
    def _count_flops(self, func_packet: Any, out: Any, args: Any, kwargs: Any) -> Any:
        for t in tree_flatten((args, kwargs))[0]:
            if isinstance(t, torch.Tensor):
                try:
                    self.touched.add(t.untyped_storage().data_ptr())
                except (RuntimeError, NotImplementedError):  # tensors without storage
                    pass
        if func_packet not in self.flop_registry:
            if is_dense_op(func_packet):
                raise UncountedOpError(
                    f"op aten.{op_name(func_packet)} ran with no FLOP formula, so its cost would count as 0; "
                    "add one to vbench_lite.profile.formulas.EXTRA_FORMULAS (or pass extra= to count_flops)"
                )
            return out
        global_counts = self.flop_counts["Global"]
        before = global_counts[func_packet]
        out = super()._count_flops(func_packet, out, args, kwargs)
        n = int(global_counts[func_packet] - before)
        self.total += n
        self.by_stage[current_stage() or UNSTAGED] += n
        self.by_operator[op_name(func_packet)] += n
        return out


def count_flops(
    fn: Callable[[], object],
    *,
    denoiser: torch.nn.Module | None = None,
    extra: dict[Any, Callable[..., int]] | None = None,
) -> FlopReport:
    """Run ``fn()`` once and count the FLOPs of every op it executes.

    ``denoiser``: a module whose forward calls are counted one by one (``FlopReport.denoiser_calls``).
    ``extra``: more formulas, ``{op packet: f(*shapes, out_shape=...) -> int}``.
    Works under ``torch.inference_mode`` and ``torch.no_grad``; ``fn``'s result is discarded.
    """
    counter = StagedFlopCounter(extra)
    calls: list[int] = []
    starts: list[int] = []
    handles = []
    if denoiser is not None:
        handles.append(denoiser.register_forward_pre_hook(lambda m, a: starts.append(counter.total)))
        handles.append(denoiser.register_forward_hook(lambda m, a, o: calls.append(counter.total - starts.pop())))
    try:
        with counter:
            fn()
    finally:
        for h in handles:
            h.remove()
    by_module = {
        name: int(sum(ops.values()))
        for name, ops in counter.get_flop_counts().items()
        if name != "Global" and sum(ops.values())
    }
    report = FlopReport(
        total=counter.total,
        by_stage={k: v for k, v in counter.by_stage.items()},
        by_operator=dict(sorted(counter.by_operator.items(), key=lambda kv: -kv[1])),
        by_module=by_module,
        denoiser_calls=tuple(calls),
        touched_storages=frozenset(counter.touched),
    )
    if denoiser is not None and not calls:
        logger.warning("the denoiser module was never called inside fn(); no per-call FLOPs recorded")
    return report
