"""Leaderboard writers: Markdown, CSV and JSON here; LaTeX in :mod:`.tex`, the HTML page in :mod:`.html`.

Each ``render_*`` returns the file's text from a :class:`~vbench_lite.leaderboard.table.Leaderboard`;
:func:`write` stores the chosen formats with atomic writes (temp file + rename), so two processes
writing one folder leave each file whole: one writer's version or the other's.
Markdown, CSV, LaTeX and HTML print the same numbers (each column's declared decimals and scale):
"–" for a missing value, "∞" for an infinite one, "ref" (LaTeX "--") for the reference row's own
fidelity value; CSV leaves those empty and writes ``inf``. ``leaderboard.json`` holds the raw
values at full precision and the full protocol records.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable
from pathlib import Path

from vbench_lite.fsutil import atomic_write_text
from vbench_lite.leaderboard import protocols
from vbench_lite.leaderboard.cells import MD_SYMBOLS as MD
from vbench_lite.leaderboard.cells import cell_text
from vbench_lite.leaderboard.html import render_html
from vbench_lite.leaderboard.table import Column, Leaderboard
from vbench_lite.leaderboard.tex import render_protocols_tex, render_tex

__all__ = ["FILENAMES", "FORMATS", "parse_formats", "render_csv", "render_html", "render_json", "render_md",
           "render_protocols_tex", "render_tex", "write"]

FORMATS = ("md", "csv", "tex", "html", "json")
# Each format's files: the tex format writes the table and its protocol appendix.
FILENAMES: dict[str, tuple[str, ...]] = {
    "md": ("leaderboard.md",), "csv": ("leaderboard.csv",), "tex": ("leaderboard.tex", "leaderboard_protocols.tex"),
    "html": ("leaderboard.html",), "json": ("leaderboard.json",),
}


# --- Markdown ------------------------------------------------------------------------------------


def _md_table(head: list[str], rows: list[list[str]], align: list[str]) -> list[str]:
    esc = MD.escape
    lines = ["| " + " | ".join(esc(h) for h in head) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_md(lb: Leaderboard) -> str:
    head = ["Method"] + [lb.header(c) for c in lb.columns]
    lines = [f"# vbench_lite leaderboard: {lb.suite}", ""]
    body = [[MD.escape(row.method_id)] + [cell_text(lb, c, row.cells[c.key], MD) for c in lb.columns]
            for row in lb.rows]
    lines += _md_table(head, body, [":---"] + ["---:"] * len(lb.columns))
    lines += ["", lb.caption, ""]
    if lb.protocols:
        prot = [[MD.escape(x) for x in protocols.cells(s)] for s in protocols.summary(lb)]
        lines += ["## Protocols", "", "Full records: `leaderboard.json`.", ""]
        lines += _md_table(list(protocols.HEADERS), prot, [":---"] * len(protocols.HEADERS)) + [""]
    lines += ["Rows come from these results files:", ""]
    lines += [f"- {r.method_id}: run {r.run.result.run_id or r.run.path.parent.name}" for r in lb.rows]
    return "\n".join(lines) + "\n"


# --- CSV -----------------------------------------------------------------------------------------


def csv_header(lb: Leaderboard, col: Column) -> str:
    """The CSV name of a column: its key, with the unit of a scaled column (``params_M``, ``kvd_e3``)."""
    key = col.key
    if col.scale == 1e6:
        key += "_M"
    if (e := lb.exponents.get(col.key)):
        key += f"_e{e}"
    return key


def _shown(lb: Leaderboard, col: Column, v: float | None) -> str:
    """A number as the tables print it (same scale and decimals), inf as ``inf``, missing empty."""
    if v is None or math.isnan(v):
        return ""
    if not math.isfinite(v):
        return "inf" if v > 0 else "-inf"
    return lb.fmt(col, v)


def render_csv(lb: Leaderboard) -> str:
    """The table's numbers as printed (full precision: ``leaderboard.json`` and the results files);
    a scaled column's header names its unit; the reference row's own fidelity values are empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    head = ["method", "variant", "run_id"]
    for c in lb.columns:
        name = csv_header(lb, c)
        head.append(name)
        if c.show_std:
            head.append(f"{name}_std")
        if c.interval is not None:
            head += [f"{name}_low", f"{name}_high"]
    w.writerow(head)
    for row in lb.rows:
        r = row.run.result
        out = [r.method, r.variant or "", r.run_id]
        for c in lb.columns:
            cell = row.cells[c.key]
            out.append("" if cell.reference else _shown(lb, c, cell.value))
            if c.show_std:
                out.append(_shown(lb, c, cell.std))
            if c.interval is not None:
                lo, hi = cell.interval or (None, None)
                out += [_shown(lb, c, lo), _shown(lb, c, hi)]
        w.writerow(out)
    return buf.getvalue()


# --- JSON ----------------------------------------------------------------------------------------


def render_json(lb: Leaderboard) -> str:
    """Everything machine-readable: raw values (full precision), the caption and the full protocols."""
    from vbench_lite.results import encode_number

    rows = []
    for row in lb.rows:
        d: dict[str, object] = {"method": row.method_id, "run_id": row.run.result.run_id}
        for col in lb.columns:
            cell = row.cells[col.key]
            d[col.key] = None if cell.reference else encode_number(cell.value)
            if col.show_std:
                d[f"{col.key}_std"] = encode_number(cell.std)
            if cell.interval is not None:
                d[f"{col.key}_interval"] = [encode_number(x) for x in cell.interval]
        rows.append(d)
    data = {
        "suite": lb.suite,
        "reference": lb.baseline_id,
        "columns": [{"key": c.key, "header": lb.header(c), "better": c.better, "decimals": lb.digits.get(c.key),
                     "shown_times_10_to": lb.exponents.get(c.key, 0), "scale": c.scale} for c in lb.columns],
        "rows": rows,
        "caption": lb.caption,
        "protocols": {k: lb.protocols[k] for k in lb.protocols},
        "noise_floor": [{"metric": f.metric, "mean": f.mean, "std": f.std} for f in lb.noise_floor],
    }
    return json.dumps(data, indent=1, sort_keys=False, default=str) + "\n"


RENDERERS: dict[str, Callable[[Leaderboard], str]] = {
    "md": render_md, "csv": render_csv, "tex": render_tex, "html": render_html,
}


def parse_formats(text: str, allowed: tuple[str, ...] = FORMATS) -> list[str]:
    fmts = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in fmts if f not in allowed]
    if bad or not fmts:
        raise ValueError(f"unknown format(s) {', '.join(bad) or '(none)'}; choose from {','.join(allowed)}")
    return list(dict.fromkeys(fmts))


def write(
    lb: Leaderboard,
    out: str | os.PathLike[str],
    formats: list[str],
    *,
    tex_intervals: str = "stacked",
    html_extra: str = "",
) -> list[Path]:
    """Write the table formats into ``out`` atomically; returns the written paths.

    ``html_extra``: HTML inserted after the page's tables (the samples section of :mod:`.samples`).
    """
    renderers: dict[str, tuple[Callable[[Leaderboard], str], ...]] = {
        "md": (render_md,),
        "csv": (render_csv,),
        "tex": (lambda b: render_tex(b, intervals=tex_intervals), render_protocols_tex),
        "html": (lambda b: render_html(b, extra=html_extra),),
        "json": (render_json,),
    }
    written = []
    for f in formats:
        for name, render in zip(FILENAMES[f], renderers[f]):
            written.append(atomic_write_text(Path(out) / name, render(lb)))
    return written
