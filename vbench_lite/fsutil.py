"""Atomic file writes (temp file in the same folder + ``os.replace``), verified cache files, the
cache folder and safe path components.

A reader never sees a half-written file: it sees the old content or the new, and an interrupted
write leaves the old file intact. Files get the mode a plain ``open()`` would give them (0644
under the usual umask), not ``mkstemp``'s 0600.

Cache files are written with :func:`write_cache_bytes`, which prefixes the content with its
SHA-256; :func:`read_cache_bytes` returns the content only when the digest still matches, so a
flipped byte, a truncated file or a file of another format is recomputed (with a warning), never
served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_ENV = "VBENCH_LITE_CACHE"
CACHE_MAGIC = b"vbench_lite.cache/1\n"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _umask()  # read once: os.umask can only be read by setting it


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~UMASK)  # like open(): mkstemp's 0600 is for secrets
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


def write_cache_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write a cache file atomically with its content's SHA-256 in front (see the module docstring)."""
    return atomic_write_bytes(path, CACHE_MAGIC + hashlib.sha256(data).digest() + data)


def read_cache_bytes(path: str | os.PathLike[str]) -> bytes | None:
    """The content of a cache file written by :func:`write_cache_bytes`, or None when it is absent,
    unreadable, of an older format or fails its SHA-256 (then a warning names the file)."""
    p = Path(path)
    if not p.is_file():
        return None
    try:
        raw = p.read_bytes()
    except OSError as exc:
        logger.warning("ignoring unreadable cache file %s (%s); recomputing", p, exc)
        return None
    head = len(CACHE_MAGIC)
    if not raw.startswith(CACHE_MAGIC) or len(raw) < head + 32:
        logger.warning("ignoring cache file %s: not a verified vbench_lite cache file; recomputing", p)
        return None
    digest, data = raw[head : head + 32], raw[head + 32 :]
    if hashlib.sha256(data).digest() != digest:
        logger.warning("ignoring corrupt cache file %s: its SHA-256 does not match; recomputing", p)
        return None
    return data


def read_cache_json(path: str | os.PathLike[str], kind: type = dict) -> Any | None:
    """A verified JSON cache file holding a ``kind`` (dict by default), or None (with a warning)."""
    data = read_cache_bytes(path)
    if data is None:
        return None
    try:
        obj = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        logger.warning("ignoring unreadable cache file %s (%s); recomputing", path, exc)
        return None
    if not isinstance(obj, kind):
        logger.warning("ignoring cache file %s: holds a %s, not a %s", path, type(obj).__name__, kind.__name__)
        return None
    return obj


def write_cache_json(path: str | os.PathLike[str], obj: Any) -> Path:
    return write_cache_bytes(path, (json.dumps(obj, indent=2, allow_nan=True) + "\n").encode("utf-8"))


class CacheFolderError(OSError):
    """The cache folder cannot be created or written; the message says how to choose another."""


def cache_dir(*parts: str) -> Path:
    """``$VBENCH_LITE_CACHE`` or ``~/.cache/vbench_lite``, never inside the installed package."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "vbench_lite")
    d = root.joinpath(*parts)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheFolderError(
            f"cache folder {d} cannot be created ({exc.strerror or exc}); set {CACHE_ENV} to a writable folder"
        ) from exc
    if not os.access(d, os.W_OK | os.X_OK):
        raise CacheFolderError(f"cache folder {d} is not writable; set {CACHE_ENV} to a writable folder")
    return d


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


_SAFE_NAME = re.compile(r"[A-Za-z0-9_+@=,-][A-Za-z0-9._:+@=,-]*")


def safe_component(name: str, what: str = "name") -> str:
    """``name`` if it is one plain path component (letters, digits, ``._:+@=,-``, not starting with a
    dot), else a one-line error: a run's name must never reach outside its results folder."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or len(name) > 200:
        raise ValueError(
            f"{what} {name!r} is not a plain name; use letters, digits and . _ - : + "
            "(no '/', no leading '.', at most 200 characters)"
        )
    return name


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


def load_safetensors(path: str | os.PathLike[str], what: str = "weights", hint: str = "") -> dict[str, Any]:
    """``safetensors.torch.load_file`` whose errors name the file (a random binary or a truncated
    download otherwise surfaces as ``SafetensorError: HeaderTooLarge``)."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # SafetensorError is not importable under a stable name
        if isinstance(exc, OSError):
            raise
        raise ValueError(f"{what} file {path} is not a readable safetensors file ({str(exc).splitlines()[0]})"
                         + (f"; {hint}" if hint else "")) from exc
