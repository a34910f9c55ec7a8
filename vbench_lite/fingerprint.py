"""Source fingerprints: the SHA-256 of a package's Python source, part of the cache keys of what
that code computes (generated videos, cost profiles, per-video metric scores).

A version string is bumped by hand and is forgotten; the source is what runs. A change to a
method's code (a sampler step, a pruned block) changes the fingerprint of its package, so videos
and profiles cached from the old code are never served for the new one.

The package of an object is the top-level package of its module (a plugin's whole package); inside
vbench_lite it is the subpackage (``vbench_lite.metrics``, ``vbench_lite.profile``, and
``vbench_lite.methods`` for every built-in method, since they share the backbone library: a
change there recomputes every built-in method).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import sys
from pathlib import Path
from typing import Any


def package_of(obj: Any) -> str:
    """The package whose source determines ``obj``'s class (see the module docstring)."""
    module = obj.__module__ if isinstance(obj, type) else type(obj).__module__
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "vbench_lite" and len(parts) > 1 else parts[0]


def package_fingerprint(package: str) -> str:
    """SHA-256 over the package's ``.py`` files (relative path and bytes, in sorted order); a
    single-file module hashes that file."""
    mod = sys.modules.get(package) or importlib.import_module(package)
    paths = getattr(mod, "__path__", None)
    if paths:
        roots = tuple(str(Path(p).resolve()) for p in paths)
        return _tree_fingerprint(roots, _stamps(roots))
    file = getattr(mod, "__file__", None)
    if not file:
        return "no-source"
    p = Path(file).resolve()
    return hashlib.sha256(p.read_bytes()).hexdigest()


def source_fingerprint(obj: Any) -> str:
    """The fingerprint of the package that ``obj``'s class comes from."""
    return package_fingerprint(package_of(obj))


def _stamps(roots: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime) of every source file: a changed file gives a new memo key."""
    out = []
    for root in roots:
        for p in sorted(Path(root).rglob("*.py")):
            st = p.stat()
            out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _tree_fingerprint(roots: tuple[str, ...], stamps: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for path, _size, _mtime in stamps:
        rel = next(str(Path(path).relative_to(r)) for r in roots if path.startswith(r))
        h.update(rel.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return h.hexdigest()
