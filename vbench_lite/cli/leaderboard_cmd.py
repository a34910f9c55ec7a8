"""``vbench-lite leaderboard``: re-render tables and the Pareto plot from results files only."""

from __future__ import annotations

import argparse
import json

from vbench_lite.leaderboard import ALL_FORMATS


def _names(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [n.strip() for n in text.split(",") if n.strip()]


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "leaderboard",
        help="render leaderboard tables (md, csv, tex, html) and a Pareto plot from results files",
        description=(
            "One row per method and variant: its latest eligible run (full eval split). Nothing is re-run. "
            "Columns measured under different protocols are refused; filter rows with --methods/--exclude."
        ),
    )
    p.add_argument("--results", default="runs", help="folder of run results (the --out of `run`; default: runs)")
    p.add_argument("--suite", default="shapes", help="suite to tabulate (default: shapes)")
    p.add_argument("--out", default=None, help="output folder (default: leaderboards/<suite>)")
    p.add_argument("--format", default=",".join(ALL_FORMATS),
                   help=f"comma-separated formats among {','.join(ALL_FORMATS)} (png = the figures, as PNG and PDF; "
                        "tex = the table and its protocol appendix; default: all)")
    p.add_argument("--methods", default=None, help="only these method ids (NAME matches all its variants), comma-separated")
    p.add_argument("--exclude", default=None, help="leave out these method ids, comma-separated")
    p.add_argument("--baseline", default=None,
                   help="method id that speedup and fidelity refer to (default: the reference method the runs "
                        "recorded; must have a run)")
    p.add_argument("--noise-floor", default=None,
                   help="noise floor JSON (default: vbench_lite/assets/**/noise_floor*.json when present)")
    p.add_argument("--no-copy-results", action="store_true",
                   help="do not copy the chosen results.json files to <out>/results/")
    p.add_argument("--include-ineligible", action="store_true",
                   help="also take partial, validation and external (`evaluate`) runs; the caption names them")
    p.add_argument("--tex-intervals", default="stacked", choices=("stacked", "inline", "none"),
                   help="LaTeX: ± std / intervals on a second, smaller line (stacked, the default: fits a "
                        "two-column page), after the value (inline), or left out (none)")
    p.add_argument("--with-videos", action="store_true",
                   help="also write the HTML page's sample previews (GIFs under <out>/samples/, not for "
                        "committing) from each run's videos, or regenerated with the recorded weights")
    p.add_argument("--json", action="store_true", help="print the rows and written files as JSON")
    return p


def main(args: argparse.Namespace) -> int:
    from vbench_lite.cli import UsageError
    from vbench_lite.leaderboard import render_leaderboard
    from vbench_lite.leaderboard.tables import render_md

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in ALL_FORMATS]
    if bad or not formats:
        raise UsageError(f"unknown --format {','.join(bad) or '(empty)'}; choose from {','.join(ALL_FORMATS)}")
    out = args.out or f"leaderboards/{args.suite}"
    done = render_leaderboard(
        args.results,
        out,
        suite=args.suite,
        formats=formats,
        include=_names(args.methods),
        exclude=_names(args.exclude),
        baseline=args.baseline,
        noise_floor=args.noise_floor,
        copy_results=not args.no_copy_results,
        eligible_only=not args.include_ineligible,
        tex_intervals=args.tex_intervals,
        with_videos=args.with_videos,
    )
    if args.json:
        print(json.dumps({"written": [str(p) for p in done.written], "copies": [str(p) for p in done.copies],
                          "caption": done.leaderboard.caption, "rows": done.rows_json()}, indent=2))
        return 0
    for path in done.written:
        print(f"wrote {path}")
    if "png" in formats and not any(p.suffix == ".png" for p in done.written):
        print("no figures: no row has both a cost and a quality value")
    if done.previews:
        print(f"wrote {len(done.previews)} sample previews under {out}/samples/")
    if done.copies:
        print(f"copied {len(done.copies)} results.json file(s) to {out}/results/")
    print()
    print(render_md(done.leaderboard).split("\n\n", 2)[1])  # the table itself
    return 0
