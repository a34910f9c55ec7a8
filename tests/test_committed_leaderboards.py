"""The committed leaderboards re-render byte for byte from their committed results files.

The results under ``leaderboards/`` were written in earlier schema versions (``vbench_lite.results/1``);
the reader upgrades them, and every table format must come out exactly as committed: a schema change
that moves a number, a digit or a column would show here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vbench_lite.leaderboard import render_leaderboard
from vbench_lite.results import SCHEMA, RunResult

ROOT = Path(__file__).resolve().parent.parent
# every committed leaderboard rendered from its own results/ (shapes at 32 px; shapes_24px and
# shapes_48px hold the rows whose FVD/KVD reference is rendered at that resolution)
BOARDS = sorted(d.name for d in (ROOT / "leaderboards").iterdir()
                if (d / "results").is_dir() and (d / "leaderboard.md").is_file())
TEXT_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.tex", "leaderboard_protocols.tex",
              "leaderboard.json", "leaderboard.html")
_RENDERED: dict[str, Path] = {}


def _rendered(board: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if board not in _RENDERED:
        out = tmp_path_factory.mktemp(board)
        src = ROOT / "leaderboards" / board
        suite = json.loads((src / "leaderboard.json").read_text()).get("suite", "shapes")
        render_leaderboard(src / "results", out, suite=suite, formats=["md", "csv", "tex", "json", "html"],
                           copy_results=False)
        _RENDERED[board] = out
    return _RENDERED[board]


def test_the_shapes_leaderboard_is_among_the_boards() -> None:
    assert "shapes" in BOARDS


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("name", TEXT_FILES)
def test_committed_leaderboard_renders_identically(board: str, name: str,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    rendered = _rendered(board, tmp_path_factory)
    committed = ROOT / "leaderboards" / board / name
    assert (rendered / name).read_bytes() == committed.read_bytes(), f"{board}/{name} differs from the committed file"


def test_committed_results_are_read_through_the_upgrade() -> None:
    files = sorted(ROOT.glob("leaderboards/**/results.json"))
    files = [f for f in files if "real_scale" not in f.parts]
    assert len(files) >= 9
    for f in files:
        run = RunResult.load(f)
        assert run.schema == SCHEMA  # upgraded in memory, written back in the current schema
        assert RunResult.from_dict(run.to_dict()).to_dict() == run.to_dict()
