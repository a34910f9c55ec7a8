"""The HTML page: one self-contained file (inline CSS and JS, nothing fetched) with sortable columns,
the samples section of :mod:`.samples` and the protocol table."""

from __future__ import annotations

import html
import math

from vbench_lite.leaderboard import protocols
from vbench_lite.leaderboard.cells import Symbols, cell_parts
from vbench_lite.leaderboard.table import Leaderboard

HTML = Symbols("–", "∞", "± ", lambda s: f"<b>{s}</b>", lambda s: html.escape(s, quote=True))

# Click a header to sort by it; again to reverse. Missing values sort last either way.
_SORT_JS = """
document.querySelectorAll("table.leaderboard th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var tbody = th.closest("table").tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    th.closest("tr").querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
      if (x === "" && y === "") return 0;
      if (x === "") return 1;
      if (y === "") return -1;
      var nx = parseFloat(x), ny = parseFloat(y), r;
      if (!isNaN(nx) && !isNaN(ny)) r = nx - ny; else r = x < y ? -1 : (x > y ? 1 : 0);
      return asc ? r : -r;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });
});
"""

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 90em; }
div.wide { overflow-x: auto; }
table.leaderboard { border-collapse: collapse; font-size: 0.9em; }
table.leaderboard th, table.leaderboard td { padding: 0.3em 0.45em; text-align: right; white-space: nowrap; }
table.leaderboard th:first-child, table.leaderboard td:first-child { text-align: left; }
table.leaderboard thead th { border-top: 2px solid #000; border-bottom: 1px solid #000; cursor: pointer; }
table.leaderboard tbody tr:last-child td { border-bottom: 2px solid #000; }
table.leaderboard small { color: #555; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
caption { caption-side: bottom; text-align: left; max-width: 60em; padding-top: 0.8em; white-space: normal; }
table.protocols { border-collapse: collapse; font-size: 0.85em; }
table.protocols th, table.protocols td { padding: 0.2em 0.6em; text-align: left; vertical-align: top;
  border-bottom: 1px solid #ddd; }
table.protocols td code { font-size: 0.95em; }
"""


def _sort_key(v: float | None) -> str:
    if v is None or math.isnan(v):
        return ""
    return "1e308" if v == math.inf else ("-1e308" if v == -math.inf else repr(float(v)))


def _protocol_table(lb: Leaderboard) -> str:
    e = HTML.escape
    rows = []
    for s in protocols.summary(lb):
        c = [e(x) for x in protocols.cells(s)]
        c[3] = f"<code>{c[3]}</code>"
        rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in c) + "</tr>")
    head = "".join(f"<th>{e(h)}</th>" for h in protocols.HEADERS)
    return (f'<h2>Protocols</h2>\n<p>Full records: <code>leaderboard.json</code>.</p>\n'
            f'<table class="protocols">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody>\n</table>\n")


def render_html(lb: Leaderboard, *, extra: str = "") -> str:
    """One self-contained page: inline CSS and JS, nothing fetched from the network.

    ``extra``: HTML placed after the leaderboard table (the samples section).
    """
    e = HTML.escape
    head = "".join(f'<th scope="col" title="click to sort">{e(c)}</th>'
                   for c in ["Method"] + [lb.header(c) for c in lb.columns])
    body = []
    for row in lb.rows:
        tds = [f'<td data-sort="{e(row.method_id)}">{e(row.method_id)}</td>']
        for c in lb.columns:
            cell = row.cells[c.key]
            key = "" if cell.reference else _sort_key(cell.value)
            value, spread = cell_parts(lb, c, cell, HTML)
            text = f"{value} <small>{spread}</small>" if spread else value
            tds.append(f'<td data-sort="{key}">{text}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    title = f"vbench_lite leaderboard: {lb.suite}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{e(title)}</title>\n<style>{_CSS}{extra and SAMPLES_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n"
        f'<div class="wide">\n<table class="leaderboard">\n<caption>{e(lb.caption)}</caption>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n</div>\n"
        + extra
        + (_protocol_table(lb) if lb.protocols else "")
        + f"<script>{_SORT_JS}</script>\n</body>\n</html>\n"
    )


SAMPLES_CSS = """
table.samples { border-collapse: collapse; margin-top: 0.5em; }
table.samples th { font-weight: normal; font-size: 0.85em; padding: 0.2em 0.5em; }
table.samples td { padding: 0.25em 0.5em; text-align: center; }
table.samples img { width: 96px; height: 96px; image-rendering: pixelated; display: block; margin: auto; }
table.samples tr.prompt td { text-align: left; font-size: 0.85em; color: #333; padding-bottom: 0.9em;
  border-bottom: 1px solid #ddd; }
table.samples .absent { display: inline-block; width: 96px; height: 96px; line-height: 96px; background: #eee;
  color: #777; font-size: 0.75em; }
"""
