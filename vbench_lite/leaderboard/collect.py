"""Load results directories and pick each method's leaderboard run; read the suite's noise floor.

A results directory holds ``<suite>/<method>[:<variant>]/<run_id>/results.json`` (DESIGN.md). The
leaderboard shows one row per method and variant: its latest *eligible* run (the full ``eval``
split, ``RunResult.eligible``), latest by the ``created`` timestamp, then by run id.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbench_lite.fsutil import atomic_write_bytes
from vbench_lite.results import RunResult, SchemaError

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class LoadedRun:
    """A run and the file it was read from."""

    result: RunResult
    path: Path

    @property
    def method_id(self) -> str:
        return self.result.method_id


def find_results(root: str | os.PathLike[str]) -> list[Path]:
    """Every ``results.json`` under ``root`` (or ``root`` itself when it is one), sorted; none inside
    hidden folders."""
    p = Path(root)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise FileNotFoundError(f"results folder {p} does not exist; pass --results DIR (the --out of `run`)")
    # hidden folders are runs still being staged (vbench_lite.run_folder) or someone's dotfolders
    return sorted(q for q in p.rglob("results.json")
                  if q.is_file() and not any(part.startswith(".") for part in q.relative_to(p).parts))


def load_runs(
    root: str | os.PathLike[str], *, suite: str | None = None, skip_unreadable: bool = False
) -> list[LoadedRun]:
    """All runs under ``root`` (of ``suite`` when given).

    An unreadable file (invalid JSON, another schema, a hand-edited field of the wrong type, no
    read permission) is an error naming the file, or with ``skip_unreadable`` (the leaderboard: one
    bad file must not block the table) reported as a warning and skipped.
    """
    runs = []
    for path in find_results(root):
        try:
            result = RunResult.load(path)  # SchemaError names the file and the problem
        except (SchemaError, OSError) as exc:
            if not skip_unreadable:
                raise
            msg = str(exc).splitlines()[0]
            log.warning("skipping unreadable results file: %s", msg if str(path) in msg else f"{path}: {msg}")
            continue
        if suite is None or result.suite == suite:
            runs.append(LoadedRun(result, path))
    return runs


def recorded_reference(runs: list[LoadedRun]) -> str | None:
    """The reference method the runs were measured against (their specs' ``reference_method``;
    results of schema /1 recorded it as ``spec.profile.reference``), ``None`` when none names one.
    Runs naming different references cannot share the Speedup and fidelity columns: an error."""
    named = sorted({str(r.result.spec["reference_method"]) for r in runs
                    if isinstance(r.result.spec, dict) and r.result.spec.get("reference_method")})
    if len(named) > 1:
        raise ValueError(f"the runs were measured against different reference methods ({', '.join(named)}); "
                         "pick the table's reference row with --baseline NAME and leave the others' rows out")
    return named[0] if named else None


def check_baseline(runs: list[LoadedRun], baseline: str | None, *, explicit: bool) -> None:
    """The reference row of speedup and fidelity must be among the table's ``runs``: a misspelt or
    filtered-out ``--baseline`` is an error (naming the rows there are); a missing default baseline
    is a warning."""
    ids = sorted({r.method_id for r in runs})
    if baseline is None:
        if ids:
            log.warning("no run names a reference method: the Speedup column and fidelity stay empty")
        return
    if baseline in ids:
        return
    if explicit:
        import difflib

        close = difflib.get_close_matches(baseline, ids, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"--baseline {baseline!r} has no row in this table (no eligible run, or left out by "
                         f"--methods/--exclude).{hint} Rows: {', '.join(ids) or '(none)'}")
    if ids:
        log.warning("no %r row in the table: the Speedup column and fidelity to it stay empty", baseline)


def _recency(run: LoadedRun) -> tuple[str, str]:
    return (run.result.created, run.result.run_id)


def latest_eligible(
    runs: list[LoadedRun],
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    eligible_only: bool = True,
) -> list[LoadedRun]:
    """The latest eligible run of each method id, sorted by method id.

    ``include`` / ``exclude`` filter by method id (``NAME`` matches every variant of NAME too).
    ``eligible_only=False`` takes the latest run of any kind (partial, validation or external
    videos), for a table outside the official leaderboard; the caption then says so.
    """

    def matches(method_id: str, names: list[str]) -> bool:
        return any(method_id == n or method_id.split(":", 1)[0] == n for n in names)

    best: dict[str, LoadedRun] = {}
    skipped = 0
    for run in runs:
        if eligible_only and not run.result.eligible:
            skipped += 1
            continue
        mid = run.method_id
        if include and not matches(mid, include):
            continue
        if exclude and matches(mid, exclude):
            continue
        if mid not in best or _recency(run) > _recency(best[mid]):
            best[mid] = run
    if skipped:
        log.info("skipped %d run(s) not eligible for the leaderboard (partial or validation split)", skipped)
    if include:
        unknown = [n for n in include if not any(matches(mid, [n]) for mid in best)]
        if unknown:
            raise ValueError(
                f"no eligible run for {', '.join(unknown)}; run it on the full eval split first "
                "or drop it from --methods"
            )
    return [best[k] for k in sorted(best)]  # the table puts its reference row first


def copy_results(runs: list[LoadedRun], dest: str | os.PathLike[str]) -> list[Path]:
    """Copy the chosen ``results.json`` files under ``dest`` in the results layout (atomically).

    The copies are what a committed leaderboard is re-rendered from (``--results <out>/results``).
    """
    written = []
    for run in runs:
        r = run.result
        target = Path(dest) / r.suite / r.method_id / (r.run_id or run.path.parent.name) / "results.json"
        if target.resolve() == run.path.resolve():
            written.append(target)
            continue
        written.append(atomic_write_bytes(target, run.path.read_bytes()))
    return written


# --- noise floor -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseFloor:
    """A metric between two disjoint draws of real videos: differences below it are sampling noise."""

    metric: str
    mean: float
    std: float | None
    source: Path
    detail: str = ""
    protocol: dict[str, Any] = field(default_factory=dict)  # as recorded in the file, if at all


def _floor_entry(d: dict[str, Any], name: str) -> tuple[float, float | None] | None:
    for container in (d, d.get("metrics"), d.get("noise_floor")):
        if not isinstance(container, dict):
            continue
        v = container.get(name)
        if isinstance(v, dict):
            mean = v.get("mean", v.get("value"))
            std = v.get("std")
        elif v is not None:
            mean, std = v, container.get(f"{name}_std")
        elif f"{name}_mean" in container:
            mean, std = container[f"{name}_mean"], container.get(f"{name}_std")
        else:
            continue
        if isinstance(mean, (int, float)) and not isinstance(mean, bool) and math.isfinite(mean):
            std = float(std) if isinstance(std, (int, float)) and not isinstance(std, bool) else None
            return float(mean), std
    return None


def noise_floor_from_runs(runs: list[LoadedRun], metrics: tuple[str, ...] = ("fvd", "kvd")) -> list[NoiseFloor]:
    """The floor the metric itself recorded (``details["noise_floor"]``, set by the FVD/KVD metrics
    only when the suite's floor was measured under the same detector protocol), when every row that
    has the metric agrees on it."""
    floors = []
    for name in metrics:
        seen = [r for r in runs if name in r.result.metrics]
        values = [r.result.metrics[name].details.get("noise_floor") for r in seen]
        if not values or any(v is None for v in values):
            continue
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) != 1:
            log.warning("rows disagree on the %s noise floor; none is shown", name)
            continue
        entry = _floor_entry({name: values[0]}, name)
        if entry is not None:
            floors.append(NoiseFloor(name, entry[0], entry[1], seen[0].path, _floor_detail(values[0])))
    return floors


def _floor_detail(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    parts = []
    if isinstance(data.get("num_videos"), int):
        parts.append(f"{data['num_videos']} videos per draw")
    if isinstance(data.get("draws"), int):
        parts.append(f"{data['draws']} draws")
    return ", ".join(parts)


def load_noise_floor(
    suite: str,
    metrics: tuple[str, ...] = ("fvd", "kvd"),
    *,
    path: str | os.PathLike[str] | None = None,
) -> list[NoiseFloor]:
    """The suite's noise floor from ``path`` or ``vbench_lite/assets/**/noise_floor*.json``.

    Read tolerantly (``{"fvd": {"mean", "std"}}``, ``{"metrics": {...}}``, ``fvd_mean``/``fvd_std``);
    a file naming another suite is skipped. Absent files give an empty list (no caption line).
    """
    if path is not None:
        candidates = [Path(path)]
        if not candidates[0].is_file():
            raise FileNotFoundError(f"noise floor file {path} does not exist")
    else:
        candidates = sorted(ASSETS.rglob("noise_floor*.json")) if ASSETS.is_dir() else []
    for file in candidates:
        try:
            data = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("ignoring unreadable noise floor file %s: %s", file, exc)
            continue
        if not isinstance(data, dict):
            continue
        named = data.get("suite")
        if named is not None and named != suite:
            continue
        if named is None and path is None and suite not in file.name and file.name != "noise_floor.json":
            continue  # an unlabelled file of some other suite
        detail = _floor_detail(data)
        floors = []
        for name in metrics:
            entry = _floor_entry(data, name)
            if entry is not None:
                proto = data.get("protocol")
                sub = data.get(name) if isinstance(data.get(name), dict) else {}
                proto = sub.get("protocol", proto)
                floors.append(NoiseFloor(name, entry[0], entry[1], file, detail,
                                         dict(proto) if isinstance(proto, dict) else {}))
        if floors:
            return floors
    return []


def resolve_run(path: str | os.PathLike[str], *, method: str | None = None, suite: str | None = None) -> LoadedRun:
    """One run from a ``results.json``, a run folder, or a results folder (its latest run).

    In a folder holding several methods, ``method`` picks one (its latest run, eligible or not).
    """
    runs = load_runs(path, suite=suite)
    if method is not None:
        runs = [r for r in runs if r.method_id == method]
    if not runs:
        what = f" of {method}" if method else ""
        raise FileNotFoundError(f"no results.json{what} under {path}")
    ids = sorted({r.method_id for r in runs})
    if len(ids) > 1:
        raise ValueError(f"{path} holds runs of several methods ({', '.join(ids)}); pick one with --method")
    return max(runs, key=_recency)
