"""The results schema ``vbench_lite.results/2``: typed dataclasses, JSON round trip, validation.

A run directory is ``<out>/<suite>/<method>[:<variant>]/<run_id>/`` holding ``results.json``
(a :class:`RunResult`), ``samples.jsonl`` (one :class:`SampleRow` per video) and the videos.

``/2`` types the cost profile and the method's description (:mod:`vbench_lite.cost`: one name
per number) and records the run spec's reference method and metric configs; a ``/1`` file is
upgraded on reading (:func:`upgrade_v1`), so results written before keep loading and rendering.

Non-finite numbers are stored as strings ("inf", "-inf", "nan") so the JSON stays standard
(an identical video has PSNR = inf against the baseline, and that is reported as such).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vbench_lite.cost import CostProfile, MethodInfo, ProfileSchemaError
from vbench_lite.fsutil import atomic_write_json, atomic_write_text, safe_component

SCHEMA = "vbench_lite.results/2"
SCHEMA_V1 = "vbench_lite.results/1"
READABLE = (SCHEMA, SCHEMA_V1)


class SchemaError(ValueError):
    """A results file that does not follow ``vbench_lite.results/2`` (or ``/1``)."""


def encode_number(x: float | None) -> float | str | None:
    if x is None:
        return None
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def decode_number(x: Any, *, where: str = "value") -> float | None:
    if x is None:
        return None
    if isinstance(x, bool):
        raise SchemaError(f"{where}: expected a number, got a boolean")
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    raise SchemaError(f"{where}: expected a number or 'inf'/'-inf'/'nan', got {x!r}")


# Content hashes that results written before the identity/fingerprint split (issue 18) kept inside
# ``protocol``; reading such a file moves them to ``fingerprint``, so old and new records compare.
LEGACY_FINGERPRINT_KEYS = ("reference_sha256",)


@dataclass
class MetricResult:
    """One metric's aggregate with the protocol that produced it.

    ``protocol`` is the identity of the measurement, what was asked for: everything the number is
    defined by and that is known before anything is scored (suite, version, split, counts,
    resolution, detector id and weights SHA-256, preprocessing, covariance convention). It never
    depends on the machine or on whether scores came from a cache; two numbers with different
    protocols never share a table column. ``fingerprint`` holds what was obtained: content hashes
    of what was rendered or computed (reference videos, reference features). Two runs of one
    protocol whose fingerprints differ are still comparable; the difference is reported.
    """

    name: str
    version: str
    value: float | None
    higher_is_better: bool
    protocol: dict[str, Any] = field(default_factory=dict)
    std: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["value"] = encode_number(self.value)
        d["std"] = encode_number(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, where: str = "metric") -> MetricResult:
        _require(d, ("name", "version", "value", "higher_is_better"), where)
        if not isinstance(d["higher_is_better"], bool):
            raise SchemaError(f"{where}.higher_is_better must be true or false")
        warnings = d.get("warnings") or []
        if not isinstance(warnings, list):
            raise SchemaError(f"{where}.warnings must be a list, got {type(warnings).__name__}")
        protocol, fingerprint = _split_legacy_protocol(_object(d, "protocol", where), _object(d, "fingerprint", where))
        return cls(
            name=str(d["name"]),
            version=str(d["version"]),
            value=decode_number(d["value"], where=f"{where}.value"),
            higher_is_better=d["higher_is_better"],
            protocol=protocol,
            std=decode_number(d.get("std"), where=f"{where}.std"),
            details=_object(d, "details", where),
            warnings=[str(w) for w in warnings],
            fingerprint=fingerprint,
        )


def _split_legacy_protocol(
    protocol: dict[str, Any], fingerprint: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move the content hashes an old record kept in its protocol to its fingerprint."""
    legacy = {k: protocol.pop(k) for k in LEGACY_FINGERPRINT_KEYS if k in protocol}
    src = protocol.get("reference_source")
    if isinstance(src, dict) and src.get("kind") == "folder" and "path" in src:
        # A folder reference is identified by its content, not by where it lay on that machine.
        src = dict(src)
        legacy["reference_path"] = src.pop("path")
        if "reference_sha256" in legacy:
            src["content_sha256"] = legacy["reference_sha256"]
        protocol["reference_source"] = src
    return protocol, {**legacy, **fingerprint}


@dataclass
class RunResult:
    """Everything ``results.json`` holds for one run."""

    method: str
    variant: str | None
    suite: str
    split: str
    num_videos: int
    eligible: bool  # full eval split: may appear on the leaderboard
    spec: dict[str, Any]
    spec_hash: str
    method_info: MethodInfo = field(default_factory=MethodInfo)
    metrics: dict[str, MetricResult] = field(default_factory=dict)
    profile: CostProfile | None = None
    env: dict[str, Any] = field(default_factory=dict)
    run_id: str = ""
    created: str = ""
    videos_sha256: str | None = None  # hash over the per-video hashes, in index order
    # metrics left out because the inputs cannot support them (``evaluate``): name -> reason
    skipped: dict[str, str] = field(default_factory=dict)
    schema: str = SCHEMA

    def __post_init__(self) -> None:
        # describe()'s dict and a profile dict are read through the typed readers (which also
        # upgrade the /1 forms), so a RunResult is typed however it was built
        try:
            if not isinstance(self.method_info, MethodInfo):
                self.method_info = MethodInfo.from_dict(self.method_info)
            if self.profile is not None and not isinstance(self.profile, CostProfile):
                self.profile = CostProfile.from_dict(self.profile)
        except ProfileSchemaError as exc:
            raise SchemaError(str(exc)) from exc

    @property
    def method_id(self) -> str:
        return f"{self.method}:{self.variant}" if self.variant else self.method

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["method_info"] = self.method_info.to_dict()
        d["profile"] = self.profile.to_dict() if self.profile is not None else None
        d["metrics"] = {k: m.to_dict() for k, m in self.metrics.items()}
        if not d["skipped"]:  # only written when something was skipped
            del d["skipped"]
        # schema first, so a reader sees the version before anything else
        return {"schema": d.pop("schema"), **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        if not isinstance(d, dict):
            raise SchemaError("results must be a JSON object")
        schema = d.get("schema")
        if schema not in READABLE:
            raise SchemaError(
                f"results schema {schema!r} is not supported; this vbench_lite reads {SCHEMA!r} and {SCHEMA_V1!r} "
                "(re-run the method with this version to regenerate it)"
            )
        if schema == SCHEMA_V1:
            d = upgrade_v1(d)
        _require(d, ("method", "suite", "split", "num_videos", "eligible", "spec", "spec_hash"), "results")
        if not isinstance(d["num_videos"], int) or isinstance(d["num_videos"], bool) or d["num_videos"] < 0:
            raise SchemaError("results.num_videos must be a non-negative integer")
        if not isinstance(d["eligible"], bool):
            raise SchemaError("results.eligible must be true or false")
        for key in ("method", "suite", "split", "spec_hash"):
            if not isinstance(d[key], str):
                raise SchemaError(f"results.{key} must be a string, got {type(d[key]).__name__}")
        if d.get("variant") is not None and not isinstance(d["variant"], str):
            raise SchemaError("results.variant must be a string or null")
        metrics_raw = _object(d, "metrics", "results")
        metrics = {
            k: MetricResult.from_dict(v, where=f"results.metrics.{k}") for k, v in metrics_raw.items()
        }
        profile = d.get("profile")
        if profile is not None and not isinstance(profile, dict):
            raise SchemaError(f"results.profile must be an object or null, got {type(profile).__name__}")
        try:
            method_info = MethodInfo.from_dict(_object(d, "method_info", "results"), where="results.method_info")
            cost = CostProfile.from_dict(profile, where="results.profile") if profile is not None else None
        except ProfileSchemaError as exc:
            raise SchemaError(str(exc)) from exc
        return cls(
            method=d["method"],
            variant=d.get("variant"),
            suite=d["suite"],
            split=d["split"],
            num_videos=d["num_videos"],
            eligible=d["eligible"],
            spec=_object(d, "spec", "results", required=True),
            spec_hash=d["spec_hash"],
            method_info=method_info,
            metrics=metrics,
            profile=cost,
            env=_object(d, "env", "results"),
            run_id=str(d.get("run_id", "")),
            created=str(d.get("created", "")),
            videos_sha256=d.get("videos_sha256"),
            skipped={str(k): str(v) for k, v in _object(d, "skipped", "results").items()},
        )

    def save(self, run_dir: str | os.PathLike[str]) -> Path:
        return atomic_write_json(Path(run_dir) / "results.json", self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunResult:
        p = Path(path)
        if p.is_dir():
            p = p / "results.json"
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SchemaError(f"no results file at {p}") from None
        except UnicodeDecodeError:
            raise SchemaError(f"{p} is not a results file (not UTF-8 text)") from None
        except json.JSONDecodeError as exc:
            raise SchemaError(f"{p} is not valid JSON: {exc}") from exc
        try:
            return cls.from_dict(data)
        except SchemaError as exc:
            raise SchemaError(f"{p}: {exc}") from exc


def upgrade_v1(d: dict[str, Any]) -> dict[str, Any]:
    """A ``vbench_lite.results/1`` record in the ``/2`` form (a new dict; the input is not changed).

    What changed: the profile and the method description are typed (their readers upgrade the /1
    profile: latency entries keyed ``batch<N>`` with the per-video median under three names); the
    spec's paired-latency reference (``spec.profile.reference``) is the spec's ``reference_method``.
    A /1 profile that was not enabled (``{"enabled": false}``) is no profile.
    """
    d = dict(d)
    profile = d.get("profile")
    if isinstance(profile, dict) and profile.get("enabled") is False:
        d["profile"] = None
    spec = d.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("profile"), dict) and "reference" in spec["profile"]:
        spec = dict(spec)
        prof = dict(spec["profile"])
        spec.setdefault("reference_method", prof.pop("reference"))
        spec["profile"] = prof
        d["spec"] = spec
    d["schema"] = SCHEMA
    return d


@dataclass
class SampleRow:
    """One line of ``samples.jsonl``: one generated video and its per-metric scores."""

    index: int
    prompt: str
    seed: int
    attributes: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float | None] = field(default_factory=dict)
    path: str | None = None
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["scores"] = {k: encode_number(v) for k, v in self.scores.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampleRow:
        _require(d, ("index", "prompt", "seed"), "sample")
        for key in ("index", "seed"):
            if not isinstance(d[key], int) or isinstance(d[key], bool):
                raise SchemaError(f"sample.{key} must be an integer, got {d[key]!r}")
        return cls(
            index=d["index"],
            prompt=str(d["prompt"]),
            seed=d["seed"],
            attributes=_object(d, "attributes", "sample"),
            scores={k: decode_number(v, where=f"sample.scores.{k}") for k, v in _object(d, "scores", "sample").items()},
            path=d.get("path"),
            sha256=d.get("sha256"),
        )


def write_samples(run_dir: str | os.PathLike[str], rows: list[SampleRow]) -> Path:
    text = "".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in sorted(rows, key=lambda r: r.index))
    return atomic_write_text(Path(run_dir) / "samples.jsonl", text)


def read_samples(run_dir: str | os.PathLike[str]) -> list[SampleRow]:
    p = Path(run_dir) / "samples.jsonl"
    rows = []
    for n, line in enumerate(p.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(SampleRow.from_dict(json.loads(line)))
            except (json.JSONDecodeError, SchemaError) as exc:
                raise SchemaError(f"{p}:{n}: {exc}") from exc
    return rows


def new_run_id(spec_hash: str) -> str:
    """``YYYYmmdd-HHMMSS-<spec hash>``: the base of a run id (:mod:`vbench_lite.run_folder` makes it
    unique with a ``-2``, ``-3`` ... suffix when another run took it in the same second)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{spec_hash[:8]}"


def run_dir_for(out: str | os.PathLike[str], suite: str, method_id: str, run_id: str) -> Path:
    """``<out>/<suite>/<method_id>/<run_id>``; each part must be a plain name (no path escapes)."""
    return (Path(out) / safe_component(suite, "suite name") / safe_component(method_id, "method name")
            / safe_component(run_id, "run id"))


def _object(d: dict[str, Any], key: str, where: str, *, required: bool = False) -> dict[str, Any]:
    """``d[key]`` as a dict (absent or null -> {} unless ``required``); any other type is a SchemaError."""
    value = d.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise SchemaError(f"{where}.{key} must be a JSON object, got {type(value).__name__}")
    return dict(value)


def _require(d: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    if not isinstance(d, dict):
        raise SchemaError(f"{where} must be a JSON object")
    missing = [k for k in keys if k not in d]
    if missing:
        raise SchemaError(f"{where} is missing required field(s): {', '.join(missing)}")
