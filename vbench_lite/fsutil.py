"""Atomic file writes (temp file in the same folder + ``os.replace``) and the cache folder.

A reader never sees a half-written file: it sees the old content or the new, and an interrupted
write leaves the old file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

CACHE_ENV = "VBENCH_LITE_CACHE"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> Path:
    text = json.dumps(obj, indent=indent, sort_keys=False, allow_nan=True)
    return atomic_write_text(path, text + "\n")


def cache_dir(*parts: str) -> Path:
    """``$VBENCH_LITE_CACHE`` or ``~/.cache/vbench_lite``, never inside the installed package."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "vbench_lite")
    d = root.joinpath(*parts)
    d.mkdir(parents=True, exist_ok=True)
    return d


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def local_weights_file(path: str | os.PathLike[str] | None, what: str, hint: str) -> Path:
    """An existing local weights file, or a one-line error naming ``what`` and the fix (``hint``).

    Nothing is ever downloaded, so every real-protocol network goes through this check first.
    """
    if path is None:
        raise FileNotFoundError(f"{what}: no weights file given; {hint}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"{what}: weights file not found at {p}; {hint}")
    return p
