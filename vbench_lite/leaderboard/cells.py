"""How one table cell is written: the value as the column declares it, its spread, bold, "ref".

Shared by every text writer (Markdown, LaTeX, HTML); each passes its :class:`Symbols`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from vbench_lite.leaderboard.table import Cell, Column, Leaderboard


@dataclass(frozen=True)
class Symbols:
    missing: str
    inf: str
    pm: str
    bold: Callable[[str], str]
    escape: Callable[[str], str]
    reference: str = "ref"  # the reference row's own value of a fidelity column


def cell_parts(lb: Leaderboard, col: Column, cell: Cell, sym: Symbols) -> tuple[str, str]:
    """The cell's value (bold when best) and its spread (``± std`` or ``[low, high]``; may be empty)."""
    v = cell.value
    if cell.reference:
        return sym.reference, ""
    if v is None or math.isnan(v):
        return sym.missing, ""
    if math.isinf(v):
        text = sym.inf if v > 0 else "-" + sym.inf
    else:
        text = sym.escape(lb.fmt(col, v) + col.unit)
    spread = ""
    if cell.std is not None:
        spread = sym.pm + sym.escape(lb.fmt(col, cell.std))
    elif cell.interval is not None:
        lo, hi = cell.interval
        spread = sym.escape(f"[{lb.fmt(col, lo)}, {lb.fmt(col, hi)}]")
    return (sym.bold(text) if cell.best else text), spread


def cell_text(lb: Leaderboard, col: Column, cell: Cell, sym: Symbols) -> str:
    value, spread = cell_parts(lb, col, cell, sym)
    return f"{value} {spread}".rstrip() if spread else value


MD_SYMBOLS = Symbols("–", "∞", "± ", lambda s: f"**{s}**", lambda s: s.replace("|", "\\|"))
