"""Command-line interface: ``python -m vbench_lite`` / ``vbench-lite``.

One module per subcommand; each exposes ``add_parser(subparsers)`` and ``main(args) -> int``.
Exit codes: 0 ok, 1 regression found (``check``), 2 bad input or usage with a one-line reason.
Set ``VBENCH_LITE_DEBUG=1`` to see the traceback behind a one-line error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from vbench_lite import __version__

# Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("list", "run", "evaluate", "train", "stats", "leaderboard", "check", "profile", "compare")

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input or usage: printed as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vbench-lite",
        description="Benchmark and evaluation harness for efficient video diffusion methods.",
    )
    parser.add_argument("--version", action="version", version=f"vbench_lite {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"vbench_lite.cli.{name.replace('-', '_')}_cmd")
        sp = module.add_parser(sub)
        sp.set_defaults(_main=module.main)
    return parser


def error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args._main(args) or 0)
    # Unknown names, schema errors and unreadable videos are all ValueErrors (with one-line,
    # self-explaining messages); catching the base keeps `list` from importing torch.
    except (UsageError, ValueError, FileExistsError, FileNotFoundError) as exc:
        if os.environ.get("VBENCH_LITE_DEBUG"):
            raise
        print(f"vbench-lite {args.command}: error: {error_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"vbench-lite {args.command}: interrupted; finished work is kept on disk", file=sys.stderr)
        return 130
