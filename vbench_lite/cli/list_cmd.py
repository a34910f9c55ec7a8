"""``vbench-lite list [methods|metrics|detectors|suites]``: name, description and origin."""

from __future__ import annotations

import argparse
import json

from tabulate import tabulate

KINDS = ("methods", "metrics", "detectors", "clip-backbones", "suites")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("list", help="list registered methods, metrics, detectors or suites")
    p.add_argument("kind", nargs="?", choices=KINDS, help="what to list (default: everything)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def main(args: argparse.Namespace) -> int:
    from vbench_lite.registries import ALL

    kinds = [args.kind] if args.kind else list(KINDS)
    out: dict[str, list[dict[str, str]]] = {}
    for kind in kinds:
        reg = ALL[kind]
        out[kind] = [
            {"name": e.name, "description": reg.describe(e.name), "origin": e.origin}
            for e in reg.entries()
        ]
        for name, why in reg.errors.items():
            out[kind].append({"name": name, "description": f"(skipped: {why})", "origin": "plugin"})
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for kind in kinds:
        print(f"{kind}:")
        rows = [(r["name"], r["description"], r["origin"]) for r in out[kind]]
        print(tabulate(rows, headers=("name", "description", "origin")) if rows else "  (none)")
        print()
    return 0
