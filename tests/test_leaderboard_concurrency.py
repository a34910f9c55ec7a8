"""Two processes writing one leaderboard folder never leave a corrupt file."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.test_leaderboard_fixtures import standard_results
from vbench_lite.leaderboard import render_leaderboard

FORMATS = ["md", "csv", "tex", "html"]
NAMES = ["leaderboard.md", "leaderboard.csv", "leaderboard.tex", "leaderboard_protocols.tex", "leaderboard.html"]

WRITER = """
import sys
from vbench_lite.leaderboard import render_leaderboard
results, out, methods, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for _ in range(n):
    render_leaderboard(results, out, formats=["md", "csv", "tex", "html"], include=methods.split(","),
                       copy_results=False)
"""


def test_two_processes_writing_one_folder(tmp_path: Path) -> None:
    results = standard_results(tmp_path / "results")
    # the two writers render different tables (all methods / the baseline alone)
    expected: dict[str, set[bytes]] = {name: set() for name in NAMES}
    for i, methods in enumerate(("baseline,sned,tpdiff", "baseline")):
        ref = tmp_path / f"ref{i}"
        render_leaderboard(results, ref, formats=FORMATS, include=methods.split(","), copy_results=False)
        for name in NAMES:
            expected[name].add((ref / name).read_bytes())
    # every file differs (the protocol appendix too: only the first table has a paired Speedup row)
    assert all(len(v) == 2 for v in expected.values())

    out = tmp_path / "shared"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(results), str(out), methods, "25"])
        for methods in ("baseline,sned,tpdiff", "baseline")
    ]
    reads = 0
    while any(p.poll() is None for p in procs):
        for name in NAMES:
            path = out / name
            if path.exists():
                assert path.read_bytes() in expected[name], f"{name} was read half-written"
                reads += 1
        time.sleep(0.002)
    assert [p.returncode for p in procs] == [0, 0]
    for name in NAMES:
        assert (out / name).read_bytes() in expected[name]
    assert reads > 0
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)  # no temp files left behind
