"""Copy the table of leaderboards/<suite>/leaderboard.md into README.md between its markers.

Usage: python scripts/update_readme_table.py [--suite shapes]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- leaderboard:start -->", "<!-- leaderboard:end -->"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--suite", default="shapes")
    args = ap.parse_args()
    board = (ROOT / "leaderboards" / args.suite / "leaderboard.md").read_text()
    lines = board.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    table = "\n".join(lines[first:end])  # the leaderboard itself (the protocol table follows it)
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} markers; add them where the table belongs")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{table}\n{END}", text, flags=re.S)
    readme.write_text(new)
    print(f"README.md: table of leaderboards/{args.suite}/leaderboard.md copied ({table.count(chr(10)) - 1} rows)")


if __name__ == "__main__":
    main()
