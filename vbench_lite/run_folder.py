"""A run's results folder: staged privately while the run works, published under a unique id.

``RunFolder(out, suite, method_id, spec_hash)`` is made before any work, so an ``--out`` that is a
file, unwritable or on a read-only disk fails at once. The run writes its files into a hidden
staging folder ``<out>/<suite>/<method>/.<run_id>.<host>-<pid>.partial`` and :meth:`publish`
renames it to its final name, which is reserved with an exclusive ``mkdir``: two identical runs
started in the same second get ``<run_id>`` and ``<run_id>-2``, never one shared folder, and no
run's clean-up can touch another's files. An interrupted run removes only its own staging folder
(:meth:`discard`); one killed with SIGKILL leaves a hidden ``.partial`` folder that the next run in
the same folder removes once its process is gone. A published folder is complete (``results.json``
is written before the rename) and is never written again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
from pathlib import Path

from vbench_lite.fsutil import UMASK
from vbench_lite.results import new_run_id, run_dir_for

logger = logging.getLogger(__name__)

STAGING_SUFFIX = ".partial"
MAX_SUFFIX = 10_000


def _host() -> str:
    return "".join(c if c.isalnum() or c == "-" else "_" for c in socket.gethostname())[:40] or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders in ``parent`` left by killed processes of this host; returns them."""
    removed = []
    host = _host()
    for d in parent.glob(f".*{STAGING_SUFFIX}"):
        owner = d.name[: -len(STAGING_SUFFIX)].rsplit(".", 2)
        if len(owner) != 3 or not d.is_dir():
            continue
        h, _, pid = owner[2].rpartition("-")
        if h == host and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
            logger.info("removed %s, left by a killed run", d)
    return removed


class RunFolder:
    """See the module docstring: ``staging`` while working, ``path`` once :meth:`publish`\\ ed."""

    def __init__(self, out: str | os.PathLike[str], suite: str, method_id: str, spec_hash: str) -> None:
        self.base_id = new_run_id(spec_hash)
        self.parent = run_dir_for(out, suite, method_id, self.base_id).parent  # checks the names
        self._created = [p for p in (self.parent, *self.parent.parents) if not p.exists()]
        self.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(self.parent)
        self.staging = Path(tempfile.mkdtemp(
            prefix=f".{self.base_id}.", suffix=f".{_host()}-{os.getpid()}{STAGING_SUFFIX}", dir=self.parent
        ))
        os.chmod(self.staging, 0o777 & ~UMASK)  # mkdtemp makes 0700
        self.path: Path | None = None

    @property
    def created(self) -> str:
        """The run's start time, ``YYYYmmdd-HHMMSS`` (UTC)."""
        return self.base_id[:15]

    def reserve(self) -> str:
        """Claim the final folder name (exclusive ``mkdir``) and return the unique run id."""
        if self.path is not None:
            return self.path.name
        for n in range(1, MAX_SUFFIX):
            run_id = self.base_id if n == 1 else f"{self.base_id}-{n}"
            try:
                (self.parent / run_id).mkdir()
            except FileExistsError:
                continue
            self.path = self.parent / run_id
            return run_id
        raise FileExistsError(f"{MAX_SUFFIX} runs named {self.base_id} already exist in {self.parent}")

    def publish(self) -> Path:
        """Move the staged files to the reserved folder (an atomic rename onto the empty folder)."""
        self.reserve()
        assert self.path is not None
        os.rename(self.staging, self.path)
        return self.path

    def discard(self) -> None:
        """Remove this run's staging folder, its reserved name, and the parents it created if empty."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.path is not None and self.path.is_dir() and not any(self.path.iterdir()):
            self.path.rmdir()
        for p in self._created:  # innermost first
            with contextlib.suppress(OSError):
                p.rmdir()
