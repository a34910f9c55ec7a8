"""VDMini step 2: which blocks to remove (Wu et al., arXiv 2411.18375, Sec. 3.2).

The paper removes shallow (high-resolution) blocks, which carry individual frames' content that the
ICD loss can restore, and keeps the deepest level, which carries motion: in its SF-V student the
second ResBlock + attention pair of each shallow down/up level goes. Here the same rule is driven
by the measured block-importance table (:mod:`.importance`) and a target cost instead of a fixed
list: the removable units are the ResBlock + temporal (+ cross-attention) pairs of every level but
the deepest; they are taken shallowest level first, and within a level least important per unit of
cost saved first, until the pruned denoiser's cost falls to ``target_cost`` of the teacher's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vbench_lite.methods.vdmini.importance import TEACHER, BlockRow, scores, unmeasured

COSTS = {"flops": "flops_saved", "latency": "latency_saved"}


@dataclass(frozen=True)
class PruningUnit:
    """One ResBlock + temporal (+ cross-attention) pair: ``down.0`` pair 1 is ``down.0.*.1``."""

    side: str
    level: int
    index: int
    blocks: tuple[str, ...]
    cost: float  # fraction of the teacher's denoiser cost its removal saves
    importance: float

    @property
    def name(self) -> str:
        return f"{self.side}.{self.level}.pair.{self.index}"


def pruning_units(table: dict[str, Any], cost: str = "flops") -> list[PruningUnit]:
    """Every block pair of the importance table, with its summed cost and importance."""
    if cost not in COSTS:
        raise ValueError(f"unknown pruning cost {cost!r}; use one of {', '.join(COSTS)}")
    sc = scores(table)
    groups: dict[tuple[str, int, int], list[str]] = {}
    for b, r in table["rows"].items():
        if b == TEACHER:
            continue
        groups.setdefault((r["side"], r["level"], int(b.rsplit(".", 1)[1])), []).append(b)
    rows = table["rows"]
    return [
        PruningUnit(side, level, j, tuple(bs), sum(rows[b][COSTS[cost]] for b in bs),
                    sum(sc[b]["importance"] for b in bs))
        for (side, level, j), bs in sorted(groups.items())
    ]


def prune_shallow_blocks(table: dict[str, Any], target_cost: float, cost: str = "flops") -> list[str]:
    """The blocks to remove so that the student costs at most ``target_cost`` (a fraction of the
    teacher's denoiser FLOPs or latency, per ``cost``), shallow levels only, in execution order.

    Raises ``ValueError`` when the shallow levels cannot save that much.
    """
    if not 0.0 < target_cost <= 1.0:
        raise ValueError(f"target_cost must be a fraction of the teacher's cost in (0, 1], got {target_cost}")
    deepest = int(table["levels"]) - 1
    missing = [b for b in unmeasured(table) if _level(b, deepest + 1) < deepest]
    if missing:
        raise ValueError(f"the importance table has not measured the shallow blocks {missing} yet; "
                         "finish it with `python benchmarks/vdmini_importance.py`")
    units = [u for u in pruning_units(table, cost) if u.side != "mid" and u.level < deepest]
    # Shallowest first (the paper's observation); then least importance per cost saved.
    units.sort(key=lambda u: (u.level, u.importance / max(u.cost, 1e-12), u.name))
    need = 1.0 - target_cost
    chosen: list[PruningUnit] = []
    saved = 0.0
    for u in units:
        if saved >= need - 1e-12:
            break
        chosen.append(u)
        saved += u.cost
    if saved < need - 1e-12:
        raise ValueError(
            f"target cost {target_cost:.3f} of the teacher's {cost} is out of reach: removing every "
            f"block pair above the deepest level saves {saved:.3f}, so the lowest reachable target "
            f"is {1.0 - saved:.3f}"
        )
    picked = {b for u in chosen for b in u.blocks}
    return [b for b in table["rows"] if b in picked]


def _level(block: str, levels: int) -> int:
    return BlockRow.locate(block, levels)[1]
