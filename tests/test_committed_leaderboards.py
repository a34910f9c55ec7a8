"""The committed leaderboards re-render byte for byte from their committed results files.

The results under ``leaderboards/`` were written in earlier schema versions (``vbench_lite.results/1``);
the reader upgrades them, and every table format must come out exactly as committed: a schema change
that moves a number, a digit or a column would show here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vbench_lite.leaderboard import render_leaderboard
from vbench_lite.results import SCHEMA, RunResult

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "leaderboards" / "shapes"
TEXT_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.tex", "leaderboard_protocols.tex",
              "leaderboard.json", "leaderboard.html")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lb")
    render_leaderboard(SHAPES / "results", out, formats=["md", "csv", "tex", "json", "html"], copy_results=False)
    return out


@pytest.mark.parametrize("name", TEXT_FILES)
def test_committed_shapes_leaderboard_renders_identically(rendered: Path, name: str) -> None:
    assert (rendered / name).read_bytes() == (SHAPES / name).read_bytes(), f"{name} differs from the committed file"


def test_committed_results_are_read_through_the_upgrade() -> None:
    files = sorted(ROOT.glob("leaderboards/**/results.json"))
    files = [f for f in files if "real_scale" not in f.parts]
    assert len(files) >= 9
    for f in files:
        run = RunResult.load(f)
        assert run.schema == SCHEMA  # upgraded in memory, written back in the current schema
        assert RunResult.from_dict(run.to_dict()).to_dict() == run.to_dict()
