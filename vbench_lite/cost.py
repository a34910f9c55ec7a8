"""The typed cost profile of the results schema: :class:`CostProfile`, :class:`LatencyStat`,
:class:`FlopCount`, :class:`ParamCount`, and the method's own description :class:`MethodInfo`.

Each number has one name. Per-video latencies are derived (``LatencyStat.median_s_per_video =
median_s / per``), never stored beside the value they come from. :meth:`CostProfile.from_dict`
reads the current form (``vbench_lite.profile/2``) and upgrades the older one (``/1``, written into
``vbench_lite.results/1`` files), whose latency entries were keyed ``batch<N>`` (also ``batch_<N>``,
``<N>``, or any entry with ``per``/``batch``) and carried the per-video median under three names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

PROFILE_SCHEMA = "vbench_lite.profile/2"
PROFILE_SCHEMA_V1 = "vbench_lite.profile/1"

# Multipliers to FLOPs (FLOPs = 2 x multiply-accumulates, as the profiler counts them); only /1
# records could name another unit.
FLOP_UNITS = {"FLOP": 1.0, "FLOPS": 1.0, "KFLOP": 1e3, "MFLOP": 1e6, "GFLOP": 1e9, "TFLOP": 1e12, "MAC": 2.0}


class ProfileSchemaError(ValueError):
    """A cost profile or method description that neither schema version can read."""


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return x
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    return None


def _int(x: Any) -> int | None:
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x if isinstance(x, int) and not isinstance(x, bool) else None


@dataclass(frozen=True)
class LatencyStat:
    """One latency measurement: ``repeats`` timed calls of ``per`` videos each, seconds per call."""

    per: int  # videos per timed call (the batch size)
    median_s: float
    iqr_s: float
    relative_iqr: float
    unstable: bool
    runs_s: tuple[float, ...] = ()
    stage_median_s: dict[str, float] = field(default_factory=dict)
    stage_runs_s: dict[str, tuple[float, ...]] = field(default_factory=dict)
    cpu_runs_s: tuple[float, ...] = ()
    warmup: int | None = None
    repeats: int | None = None
    threads: int | None = None
    device: str | None = None
    timer: str | None = None
    unit: str = "s"

    @property
    def median_s_per_video(self) -> float:
        return self.median_s / self.per

    @property
    def iqr_s_per_video(self) -> float:
        return self.iqr_s / self.per

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["runs_s"], d["cpu_runs_s"] = list(self.runs_s), list(self.cpu_runs_s)
        d["stage_runs_s"] = {k: list(v) for k, v in self.stage_runs_s.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, per: int | None = None, where: str = "latency",
                  defaults: dict[str, Any] | None = None) -> LatencyStat:
        """Read one entry; ``per`` (from a ``batch<N>`` key) and ``defaults`` (a /1 latency block's
        own ``device``/``threads``) fill what the entry does not say."""
        if not isinstance(d, dict):
            raise ProfileSchemaError(f"{where} must be an object, got {type(d).__name__}")
        per = _int(d.get("per")) or _int(d.get("batch")) or per
        if not per or per < 1:
            raise ProfileSchemaError(f"{where}: no batch size ('per')")
        median = _number(d.get("median_s"))
        if median is None:  # a /1 entry that kept only a per-video median
            for key in ("median_s_per_video", "seconds_per_video", "s_per_video"):
                if (v := _number(d.get(key))) is not None:
                    median = v * per
                    break
        if median is None:
            raise ProfileSchemaError(f"{where}: no median time ('median_s')")
        iqr = _number(d.get("iqr_s"))
        if iqr is None:
            iqr = (_number(d.get("iqr_s_per_video")) or 0.0) * per
        rel = _number(d.get("relative_iqr"))
        if rel is None:
            rel = iqr / median if median > 0 else float("inf")
        unstable = d.get("unstable")
        defaults = defaults or {}
        return cls(
            per=per,
            median_s=median,
            iqr_s=iqr,
            relative_iqr=rel,
            unstable=bool(unstable) if isinstance(unstable, bool) else False,
            runs_s=tuple(d.get("runs_s") or ()),
            stage_median_s=dict(d.get("stage_median_s") or {}),
            stage_runs_s={k: tuple(v) for k, v in (d.get("stage_runs_s") or {}).items()},
            cpu_runs_s=tuple(d.get("cpu_runs_s") or ()),
            warmup=_int(d.get("warmup")),
            repeats=_int(d.get("repeats")),
            threads=_int(d.get("threads")) or _int(defaults.get("threads")),
            device=d.get("device") or defaults.get("device"),
            timer=d.get("timer"),
            unit=str(d.get("unit", "s")),
        )


@dataclass(frozen=True)
class FlopCount:
    """FLOPs per generated video (2 per multiply-accumulate), counted at the generation batch size."""

    total: float
    by_stage: dict[str, float] = field(default_factory=dict)
    by_operator: dict[str, float] = field(default_factory=dict)
    by_module: dict[str, float] = field(default_factory=dict)
    denoiser_calls: int | None = None  # denoiser calls per video
    per_denoiser_call: float | None = None  # one call at the generation batch size
    denoiser_call_flops: tuple[float, ...] = ()  # every call at the generation batch size
    denoiser_total: float | None = None  # per video
    batch: int | None = None  # the generation batch size the count was taken at
    batch_total: float | None = None  # FLOPs of the whole batch
    unit: str = "FLOP"

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["denoiser_call_flops"] = list(self.denoiser_call_flops)
        return d

    @classmethod
    def from_dict(cls, f: Any, *, where: str = "flops") -> FlopCount:
        if (x := _number(f)) is not None:  # /1: a bare number is FLOPs
            return cls(total=x)
        if not isinstance(f, dict):
            raise ProfileSchemaError(f"{where} must be an object or a number, got {type(f).__name__}")
        unit = str(f.get("unit", "FLOP")).upper()
        total = _number(f.get("total"))
        if total is None:
            total = _number(f.get("per_video"))
        if total is None or unit not in FLOP_UNITS:
            raise ProfileSchemaError(f"{where}: no total in a known unit (got {f.get('total')!r} {unit})")
        k = FLOP_UNITS[unit]

        def conv(v: Any) -> Any:
            return v if k == 1.0 or _number(v) is None else v * k

        def conv_map(m: Any) -> dict[str, float]:
            return {str(a): conv(b) for a, b in (m or {}).items()} if isinstance(m, dict) else {}

        calls = f.get("denoiser_calls")
        call_flops = f.get("denoiser_call_flops")
        if isinstance(calls, list):  # an early /1 form kept the list under this name
            call_flops, calls = calls, len(calls)
        return cls(
            total=conv(total),
            by_stage=conv_map(f.get("by_stage")),
            by_operator=conv_map(f.get("by_operator")),
            by_module=conv_map(f.get("by_module")),
            denoiser_calls=_int(calls),
            per_denoiser_call=conv(f.get("per_denoiser_call")),
            denoiser_call_flops=tuple(conv(v) for v in call_flops or ()),
            denoiser_total=conv(f.get("denoiser_total")),
            batch=_int(f.get("batch")),
            batch_total=conv(f.get("batch_total")),
        )


@dataclass(frozen=True)
class ParamCount:
    """Parameters the method holds, and those that take part in inference."""

    total: int
    at_inference: int | None = None
    by_module: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, p: Any, *, where: str = "params") -> ParamCount:
        if (n := _int(p)) is not None:
            return cls(total=n)
        if not isinstance(p, dict) or _number(p.get("total")) is None:
            raise ProfileSchemaError(f"{where} must be a count or an object with 'total'")
        return cls(total=p["total"], at_inference=_int(p.get("at_inference")), by_module=dict(p.get("by_module") or {}))


@dataclass
class CostProfile:
    """What it costs to generate one video with a method (``vbench_lite.profile/2``).

    ``latency`` holds one :class:`LatencyStat` per timed batch size (the throughput view at the
    generation batch size first, then batch 1), empty when timings were skipped; ``speedup`` is the
    paired record against the reference (:mod:`vbench_lite.profile.paired`, its own schema
    ``vbench_lite.paired_latency/1``), ``None`` when no reference was timed.
    """

    method: str = ""
    device: str | None = None
    threads: int | None = None
    generation: dict[str, Any] = field(default_factory=dict)
    flops: FlopCount | None = None
    params: ParamCount | None = None
    latency: tuple[LatencyStat, ...] = ()
    speedup: dict[str, Any] | None = None
    memory: dict[str, Any] | None = None
    utilisation: dict[str, Any] | None = None
    denoiser_call: dict[str, Any] | None = None  # fvcore's breakdown of one denoiser call
    profile_wall_s: float | None = None
    env: dict[str, Any] = field(default_factory=dict)
    schema: str = PROFILE_SCHEMA

    def latency_at(self, per: int) -> LatencyStat | None:
        return next((s for s in self.latency if s.per == per), None)

    @property
    def throughput(self) -> LatencyStat | None:
        """The latency at the generation batch size (the first entry)."""
        return self.latency[0] if self.latency else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "method": self.method,
            "device": self.device,
            "threads": self.threads,
            "generation": dict(self.generation),
            "flops": self.flops.to_dict() if self.flops is not None else None,
            "params": self.params.to_dict() if self.params is not None else None,
            "latency": [s.to_dict() for s in self.latency],
            "speedup": self.speedup,
            "memory": self.memory,
            "utilisation": self.utilisation,
            "denoiser_call": self.denoiser_call,
            "profile_wall_s": self.profile_wall_s,
            "env": dict(self.env),
        }

    @classmethod
    def from_dict(cls, d: Any, *, where: str = "profile") -> CostProfile:
        """Read a ``/2`` profile, or upgrade a ``/1`` one (or a hand-written partial one)."""
        if not isinstance(d, dict):
            raise ProfileSchemaError(f"{where} must be an object, got {type(d).__name__}")
        schema = d.get("schema", PROFILE_SCHEMA_V1)
        if schema not in (PROFILE_SCHEMA, PROFILE_SCHEMA_V1):
            raise ProfileSchemaError(f"{where}: profile schema {schema!r} is not supported; this vbench_lite "
                                     f"reads {PROFILE_SCHEMA!r} and {PROFILE_SCHEMA_V1!r}")
        flops = d.get("flops")
        params = d.get("params", d.get("parameters"))
        speedup = d.get("speedup")
        if speedup is not None and not isinstance(speedup, dict):
            raise ProfileSchemaError(f"{where}.speedup must be an object or null")
        return cls(
            method=str(d.get("method", "")),
            device=d.get("device"),
            threads=_int(d.get("threads")),
            generation=dict(d.get("generation") or {}),
            flops=FlopCount.from_dict(flops, where=f"{where}.flops") if flops is not None else None,
            params=ParamCount.from_dict(params, where=f"{where}.params") if params is not None else None,
            latency=_read_latency(d.get("latency"), schema, f"{where}.latency"),
            speedup=speedup,
            memory=d.get("memory"),
            utilisation=d.get("utilisation"),
            denoiser_call=d.get("denoiser_call"),
            profile_wall_s=_number(d.get("profile_wall_s")),
            env=dict(d.get("env") or {}),
        )


def _read_latency(lat: Any, schema: str, where: str) -> tuple[LatencyStat, ...]:
    if lat is None:
        return ()
    if isinstance(lat, list):
        return tuple(LatencyStat.from_dict(e, where=f"{where}[{i}]") for i, e in enumerate(lat))
    if not isinstance(lat, dict) or schema == PROFILE_SCHEMA:
        raise ProfileSchemaError(f"{where} must be a list of latency entries")
    # /1: {"batch16": {...}, "batch1": {...}, "throughput_batch": 16, "seconds_per_video": ..., "device", "threads"}
    defaults = {k: lat.get(k) for k in ("device", "threads")}
    stats = []
    for key, entry in lat.items():
        if not isinstance(entry, dict):
            continue
        digits = key.removeprefix("batch").lstrip("_")
        stats.append(LatencyStat.from_dict(entry, per=int(digits) if digits.isdigit() else None,
                                           where=f"{where}.{key}", defaults=defaults))
    first = _int(lat.get("throughput_batch"))
    stats.sort(key=lambda s: s.per != first)  # the throughput view first, the rest in recorded order
    return tuple(stats)


# --- the method's description -------------------------------------------------------------------


@dataclass
class MethodInfo:
    """``MethodAdapter.describe()`` as the results record it: the fields the harness reads, typed,
    and everything else the method says about itself (sampler times, training record, ...) in
    ``extra``, kept as the method wrote it."""

    params: int | None = None  # total parameters of the networks that run
    nfe: int | None = None  # network function evaluations per video, CFG passes included
    steps: int | None = None
    frames: int | None = None
    resolution: int | None = None
    weights_sha256: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    TYPED = ("params", "nfe", "steps", "frames", "resolution", "weights_sha256")

    def to_dict(self) -> dict[str, Any]:
        typed = {k: getattr(self, k) for k in self.TYPED if getattr(self, k) is not None}
        return {**typed, **self.extra}

    @classmethod
    def from_dict(cls, d: Any, *, where: str = "method_info") -> MethodInfo:
        """From ``describe()`` or a results file; ``params`` given as ``{"total": N, ...}`` (an
        older form) keeps its breakdown in ``extra``."""
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise ProfileSchemaError(f"{where} must be an object, got {type(d).__name__}")
        d = dict(d)
        if isinstance(d.get("params"), dict):
            d.setdefault("params_breakdown", d["params"])
            d["params"] = d["params"].get("total")
        typed: dict[str, Any] = {}
        for k in cls.TYPED:
            v = d.get(k)
            ok = isinstance(v, str) if k == "weights_sha256" else _int(v) is not None
            if ok:
                typed[k] = v if k == "weights_sha256" else _int(v)
                del d[k]
        # a field the harness cannot read as its type (a float NFE, ...) stays as the method wrote it
        return cls(**typed, extra=d)

    def get(self, key: str, default: Any = None) -> Any:
        """One field by its ``describe()`` name (typed or extra)."""
        if key in self.TYPED:
            v = getattr(self, key)
            return default if v is None else v
        return self.extra.get(key, default)
