"""Command-line interface: ``python -m vbench_lite`` / ``vbench-lite``.

One module per subcommand; each exposes ``add_parser(subparsers)`` and ``main(args) -> int``.
Exit codes: 0 ok, 1 regression found (``check``), 2 bad input or usage with a one-line reason
(unknown names, schema errors, unreadable videos or weights, an unusable --out, cache folder or
device: :func:`describe_failure` is the one error net), 3 an internal error (a bug, shown with its
traceback), 130 Ctrl-C and 143 SIGTERM (both keep finished work and leave no half-written run).
Set ``VBENCH_LITE_DEBUG=1`` to see the traceback behind a one-line error.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Any

from vbench_lite import __version__

# Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("list", "run", "evaluate", "train", "stats", "leaderboard", "check", "profile", "compare")

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM


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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so every clean-up that handles Ctrl-C runs for it too."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


_OS_HINTS = {
    errno.ENOSPC: "free some space or choose another --out",
    errno.EDQUOT: "free some space or choose another --out",
    errno.EACCES: "choose a folder you can write (--out) or fix its permissions",
    errno.EPERM: "choose a folder you can write (--out) or fix its permissions",
    errno.EROFS: "the file system is read-only; choose another --out",
    errno.ENOTDIR: "a path component is a file, not a folder",
    errno.EISDIR: "give a file, not a folder",
    errno.EEXIST: "choose another --out",
}


def _os_line(exc: OSError) -> str:
    if not exc.filename or exc.strerror is None:  # our own OSErrors carry a whole sentence
        return error_line(exc)
    where = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 else "")
    hint = _OS_HINTS.get(exc.errno or 0)
    return f"{where}: {exc.strerror}" + (f"; {hint}" if hint else "")


def describe_failure(exc: BaseException) -> str | None:
    """The one-line reason for an expected failure (bad input, an unusable file, folder or device),
    or None for anything else (a bug: shown with its traceback)."""
    if isinstance(exc, (UsageError, ValueError)):  # unknown names, schema errors, unreadable videos
        return error_line(exc)
    if isinstance(exc, OSError):  # unwritable or full --out / cache, a file where a folder belongs
        return _os_line(exc)
    name = type(exc).__name__
    text = error_line(exc)
    if name == "SafetensorError":  # safetensors' Rust error type has no stable import path
        return f"not a readable safetensors file: {text}"
    if name == "OutOfMemoryError" or "out of memory" in text:
        return f"{text}; lower --batch-size or use --device cpu"
    if isinstance(exc, (RuntimeError, AssertionError)) and ("CUDA" in text or "NVIDIA" in text):
        return f"{text}; use --device cpu"
    if name in ("JITException", "Error") and type(exc).__module__.startswith("torch"):
        return f"TorchScript error: {text}"
    return None


def require_device(device: str) -> str:
    """A usable ``--device``, checked before any work: cuda without a CUDA device is bad input."""
    if device == "cpu":
        return device
    if device == "cuda" or device.startswith("cuda:"):
        import torch

        if not torch.cuda.is_available():
            raise UsageError(f"--device {device}: no CUDA device is available to torch {torch.__version__}; "
                             "use --device cpu")
        index = device.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise UsageError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s); "
                             "use cuda:0 .. cuda:N-1")
        return device
    raise UsageError(f"unknown --device {device!r}; use cpu, cuda or cuda:N")


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
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        return int(args._main(args) or 0)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        kept = ("nothing was cached (--no-cache)" if getattr(args, "no_cache", False) else
                "finished work is kept in the cache, run the same command again to resume")
        print(f"vbench-lite {args.command}: {what}; no half-written run folder is left; {kept}", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except Exception as exc:
        line = describe_failure(exc)
        if os.environ.get("VBENCH_LITE_DEBUG"):
            raise
        if line is None:  # a bug, not bad input: keep the traceback, and not exit 1 (= regression)
            traceback.print_exc()
            print(f"vbench-lite {args.command}: internal error ({type(exc).__name__}); this is a bug in "
                  "vbench_lite or a plugin, please report it with the traceback above", file=sys.stderr)
            return EXIT_INTERNAL
        print(f"vbench-lite {args.command}: error: {line}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
