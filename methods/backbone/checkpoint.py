"""Checkpoints as a folder of safetensors files + ``config.json`` + a SHA-256 ``manifest.json``.

Every file of a checkpoint is listed in its manifest with its SHA-256; loading re-hashes each file
and refuses a mismatch, so a truncated or edited weight file never loads silently. Writes are
atomic (temp file + rename) and the manifest is written last, so a folder without a manifest is an
interrupted write and is never taken as a checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from vbench_lite.fsutil import atomic_write_bytes, atomic_write_json, sha256_file

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CONFIG = "config.json"
MANIFEST_SCHEMA = "vbench_lite.checkpoint/1"


class CheckpointError(ValueError):
    """A missing, corrupt or tampered checkpoint; the message names the path and how to rebuild it."""


def save_checkpoint(
    folder: str | os.PathLike[str],
    tensors: dict[str, dict[str, torch.Tensor]],
    config: dict[str, Any],
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write ``{name}.safetensors`` per entry of ``tensors``, ``config.json``, extra files, manifest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # an interrupted rewrite must not look valid
    files: dict[str, str] = {}
    for name, state in tensors.items():
        data = {k: v.detach().contiguous().cpu() for k, v in state.items()}
        fname = f"{name}.safetensors"
        atomic_write_bytes(folder / fname, st_save(data))
        files[fname] = sha256_file(folder / fname)
    atomic_write_json(folder / CONFIG, config)
    files[CONFIG] = sha256_file(folder / CONFIG)
    for fname, blob in (extra_files or {}).items():
        atomic_write_bytes(folder / fname, blob)
        files[fname] = sha256_file(folder / fname)
    atomic_write_json(folder / MANIFEST, {"schema": MANIFEST_SCHEMA, "files": files})
    return folder


def verify_checkpoint(folder: str | os.PathLike[str], rebuild_hint: str = "") -> dict[str, str]:
    """Check every file against the manifest; return {file: sha256}. Raises :class:`CheckpointError`."""
    folder = Path(folder)
    hint = f"; rebuild it with: {rebuild_hint}" if rebuild_hint else ""
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise CheckpointError(f"checkpoint {folder} is missing (no {MANIFEST}){hint}")
    try:
        manifest = json.loads(mpath.read_text())
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint manifest {mpath} is corrupt ({exc}){hint}") from exc
    for fname, want in files.items():
        p = folder / fname
        if not p.is_file():
            raise CheckpointError(f"checkpoint file {p} is missing{hint}")
        got = sha256_file(p)
        if got != want:
            raise CheckpointError(
                f"checkpoint file {p} has SHA-256 {got[:16]}... but its manifest says {want[:16]}...; "
                f"refusing to load a modified or corrupt file{hint}"
            )
    return files


def load_checkpoint(
    folder: str | os.PathLike[str], rebuild_hint: str = ""
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any], dict[str, str]]:
    """Verified load: (tensors per safetensors file stem, config, manifest {file: sha256})."""
    folder = Path(folder)
    files = verify_checkpoint(folder, rebuild_hint)
    hint = f"; rebuild it with: {rebuild_hint}" if rebuild_hint else ""
    tensors: dict[str, dict[str, torch.Tensor]] = {}
    for fname in files:
        if fname.endswith(".safetensors"):
            try:
                tensors[fname[: -len(".safetensors")]] = st_load((folder / fname).read_bytes())
            except Exception as exc:  # safetensors raises its own error types
                raise CheckpointError(f"checkpoint file {folder / fname} is corrupt ({exc}){hint}") from exc
    try:
        config = json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint config {folder / CONFIG} is unreadable ({exc}){hint}") from exc
    return tensors, config, files


def weights_sha256(files: dict[str, str]) -> str:
    """One identity for a checkpoint: SHA-256 over its manifest entries (file name + file hash)."""
    import hashlib

    h = hashlib.sha256()
    for fname in sorted(files):
        h.update(f"{fname}:{files[fname]}\n".encode())
    return h.hexdigest()
