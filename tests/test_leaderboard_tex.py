"""The generated LaTeX compiles with a real engine and fits a two-column page.

Skipped, with the reason, where no LaTeX engine with booktabs is installed (Debian:
``apt-get install texlive-latex-base texlive-latex-recommended``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_leaderboard_fixtures import standard_results
from vbench_lite.leaderboard import render_leaderboard

ROOT = Path(__file__).resolve().parent.parent
ENGINE = shutil.which("pdflatex") or shutil.which("lualatex")


PACKAGES = ("booktabs.sty", "array.sty", "geometry.sty")


def _has_packages() -> bool:
    kpsewhich = shutil.which("kpsewhich")
    if kpsewhich is None:
        return False
    proc = subprocess.run([kpsewhich, *PACKAGES], capture_output=True, text=True, timeout=60)
    return len(proc.stdout.split()) == len(PACKAGES)


pytestmark = pytest.mark.skipif(
    ENGINE is None or not _has_packages(),
    reason="no LaTeX engine with booktabs (Debian: texlive-latex-base texlive-latex-recommended)",
)

# A two-column page of 7 in text width (the usual venue geometry).
DOC = r"""\documentclass[twocolumn]{article}
\usepackage[T1]{fontenc}
\usepackage[margin=0.75in]{geometry}
\usepackage{booktabs,array}
\begin{document}
\input{leaderboard.tex}
\input{leaderboard_protocols.tex}
Table~\ref{tab:vbench-lite-shapes}.
\end{document}
"""


def _compile(folder: Path) -> str:
    (folder / "doc.tex").write_text(DOC)
    for _ in range(2):  # twice: the cross-references resolve on the second run
        proc = subprocess.run([ENGINE, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=folder,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:]
    assert (folder / "doc.pdf").stat().st_size > 1000
    return (folder / "doc.log").read_text(errors="replace")


@pytest.mark.parametrize("intervals", ["stacked", "inline", "none"])
def test_generated_tables_compile(tmp_path: Path, intervals: str) -> None:
    results = standard_results(tmp_path / "results")
    out = tmp_path / "lb"
    render_leaderboard(results, out, formats=["tex"], copy_results=False, tex_intervals=intervals)
    log = _compile(out)
    assert "undefined references" not in log


def test_committed_leaderboard_fits_a_two_column_page(tmp_path: Path) -> None:
    """The real table (14 columns, stacked intervals) and its appendix: no overfull line."""
    out = tmp_path / "lb"
    render_leaderboard(ROOT / "leaderboards" / "shapes" / "results", out, formats=["tex"], copy_results=False)
    log = _compile(out)
    overfull = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)
    assert not overfull, f"lines too wide by {overfull} pt"


def test_variant_sits_under_its_method_name_in_stacked_tables() -> None:
    from vbench_lite.leaderboard.tex import _tex_method

    assert _tex_method("baseline", "stacked") == "baseline"
    stacked = _tex_method("snapgen-v:baseline-arch", "stacked")
    assert stacked.startswith(r"\begin{tabular}[t]") and r"snapgen-v:\\[-2pt]baseline-arch" in stacked
    assert _tex_method("tpdiff:no-align", "inline") == "tpdiff:no-align"
