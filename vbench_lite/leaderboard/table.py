"""The leaderboard table model: columns, one row per method, best values, protocol and caption.

Writers (:mod:`vbench_lite.leaderboard.tables`) and the plot read this model only. A column whose
rows were measured under different protocols (metric version + protocol record; for latency the
device, hardware and thread count) is refused with :class:`ProtocolMismatchError`, which names
the rows of each group: numbers of different protocols never meet in one column.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vbench_lite.leaderboard import fields
from vbench_lite.leaderboard.collect import LoadedRun, NoiseFloor
from vbench_lite.results import RunResult

log = logging.getLogger(__name__)

BASELINE = "baseline"


class ProtocolMismatchError(ValueError):
    """Rows of one column were measured under different protocols."""


# --- number formats (plain text; writers add their own symbols for inf, ±, bold) ---------------


def auto_digits(values: list[float], significant: int = 3) -> int:
    """Decimals giving the column's smallest non-zero value ``significant`` digits (one per column,
    so a column's numbers line up), between 0 and 6."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return 2
    return max(0, min(6, significant - 1 - math.floor(math.log10(min(finite)))))


# --- columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # machine name (CSV header)
    label: str  # header text without the arrow
    better: str | None  # "higher", "lower" or None
    value: Callable[[RunResult, RunResult | None], float | None]  # (run, baseline run) -> value
    digits: int | None  # decimals shown; None: chosen per column by auto_digits
    metric: str | None = None  # metric name: protocol and std come from its MetricResult
    show_std: bool = False
    unit: str = ""  # written after the number in text formats (e.g. "×")
    protocol: Callable[[RunResult], dict[str, Any] | None] | None = None
    scale: float = 1.0  # the value shown is value / scale (e.g. parameters in millions)
    # Fidelity to the baseline: the baseline's own value (PSNR inf, SSIM 1) is not a contender.
    best_excludes_baseline: bool = False

    @property
    def arrow(self) -> str:
        return {"higher": "↑", "lower": "↓"}.get(self.better or "", "")

    @property
    def header(self) -> str:
        return f"{self.label}{self.arrow}"


def _metric_column(key: str, label: str, better: str, digits: int | None, **kw: Any) -> Column:
    return Column(key, label, better, lambda run, _b: fields.metric_value(run, key), digits, metric=key, **kw)


def _speedup(run: RunResult, baseline: RunResult | None) -> float | None:
    """The paired speedup (vbench_lite.profile.paired), never a ratio of two separate timings."""
    return fields.speedup(run, baseline)


COLUMNS: tuple[Column, ...] = (
    Column("params", "Params (M)", "lower", lambda r, _b: fields.params(r), None, scale=1e6),
    Column("nfe", "NFE", "lower", lambda r, _b: fields.nfe(r), 0),
    Column("gflops", "GFLOPs", "lower", lambda r, _b: fields.gflops(r), None),
    Column("latency_s", "Latency (s)", "lower", lambda r, _b: fields.latency(r), None,
           protocol=lambda r: fields.latency_setting(r) if fields.latency(r) is not None else None),
    Column("speedup", "Speedup", "higher", _speedup, 2, unit="×"),
    _metric_column("fvd", "FVD", "lower", 1, show_std=True),
    _metric_column("kvd", "KVD", "lower", 4, show_std=True),
    _metric_column("clipsim", "CLIPSIM", "higher", 4),
    _metric_column("vbench_quality", "Quality", "higher", 4),
    _metric_column("vbench_semantic", "Semantic", "higher", 4),
    _metric_column("vbench_total", "Total", "higher", 4),
    _metric_column("psnr", "PSNR", "higher", 2, best_excludes_baseline=True),
    _metric_column("ssim", "SSIM", "higher", 4, best_excludes_baseline=True),
)


def column(key: str) -> Column:
    for c in COLUMNS:
        if c.key == key:
            return c
    raise KeyError(key)


# --- the model -----------------------------------------------------------------------------------


@dataclass
class Cell:
    value: float | None
    std: float | None = None
    best: bool = False


@dataclass
class Row:
    method_id: str
    run: LoadedRun
    cells: dict[str, Cell]


@dataclass
class Leaderboard:
    suite: str
    columns: tuple[Column, ...]
    rows: list[Row]
    caption: str
    protocol_notes: list[str] = field(default_factory=list)  # one line per column with a protocol
    noise_floor: list[NoiseFloor] = field(default_factory=list)
    baseline_id: str = BASELINE
    digits: dict[str, int] = field(default_factory=dict)  # decimals shown per column key

    def fmt(self, col: Column, x: float) -> str:
        """A finite number of ``col`` as shown (scaled, the column's decimals, no unit)."""
        return f"{x / col.scale:.{self.digits.get(col.key, 2)}f}"


def _metric_protocol(run: RunResult, name: str) -> dict[str, Any] | None:
    m = fields.metric(run, name)
    return None if m is None else {"version": m.version, **m.protocol}


def _canonical(d: dict[str, Any]) -> str:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)


def column_protocol(col: Column, rows: list[LoadedRun]) -> dict[str, Any] | None:
    """The one protocol every row of ``col`` shares, or :class:`ProtocolMismatchError`."""
    groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for run in rows:
        if col.metric is not None:
            proto = _metric_protocol(run.result, col.metric)
        elif col.protocol is not None:
            proto = col.protocol(run.result)
        else:
            proto = None
        if proto is None:
            continue
        groups.setdefault(_canonical(proto), (proto, []))[1].append(run.method_id)
    if not groups:
        return None
    if len(groups) > 1:
        protos = [p for p, _ in groups.values()]
        keys = sorted({k for p in protos for k in p if len({_canonical({k: q.get(k)}) for q in protos}) > 1})
        described = " vs ".join("{" + ", ".join(ids) + "}" for _, ids in groups.values())
        raise ProtocolMismatchError(
            f"column {col.header} mixes protocols: {described} differ in {', '.join(keys)}; "
            "show one group with --methods/--exclude, or re-run the others under one protocol"
        )
    return next(iter(groups.values()))[0]


def _check_direction(col: Column, runs: list[LoadedRun]) -> None:
    if col.metric is None:
        return
    for run in runs:
        m = fields.metric(run.result, col.metric)
        if m is not None and m.higher_is_better != (col.better == "higher"):
            raise ValueError(
                f"{run.path}: metric {col.metric} says higher_is_better={m.higher_is_better}, "
                f"but {col.header} is {col.better}-is-better; the results file is inconsistent"
            )


def _mark_best(col: Column, rows: list[Row], baseline_id: str) -> None:
    if col.better is None:
        return
    contenders = [
        r for r in rows
        if r.cells[col.key].value is not None and not math.isnan(r.cells[col.key].value)
        and not (col.best_excludes_baseline and r.method_id == baseline_id)
    ]
    if len(contenders) < 2:  # a single value is not "best" of anything
        return
    pick = max if col.better == "higher" else min
    best = pick(r.cells[col.key].value for r in contenders)
    for r in contenders:
        r.cells[col.key].best = r.cells[col.key].value == best


def build(
    runs: list[LoadedRun],
    *,
    suite: str,
    noise_floor: list[NoiseFloor] | None = None,
    baseline_id: str = BASELINE,
    columns: tuple[Column, ...] = COLUMNS,
) -> Leaderboard:
    """The table of ``runs`` (one per method id, e.g. from :func:`collect.latest_eligible`)."""
    if not runs:
        raise ValueError(
            f"no eligible results for suite {suite!r}; run methods on the full eval split "
            "(`python -m vbench_lite run --method NAME`, its --out given as --results), "
            "or pass --include-ineligible for partial or external runs"
        )
    runs = sorted(runs, key=lambda r: (r.method_id != baseline_id, r.method_id))  # the reference row first
    ids = [r.method_id for r in runs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"more than one run per method in the table: {ids}; pick one each")
    baseline = next((r.result for r in runs if r.method_id == baseline_id), None)
    protocols: dict[str, dict[str, Any]] = {}
    for col in columns:
        _check_direction(col, runs)
        proto = column_protocol(col, runs)
        if proto is not None:
            protocols[col.key] = proto
    rows = []
    for run in runs:
        cells = {}
        for col in columns:
            std = fields.metric_std(run.result, col.metric) if (col.metric and col.show_std) else None
            cells[col.key] = Cell(col.value(run.result, baseline), std)
        rows.append(Row(run.method_id, run, cells))
    digits = {}
    for col in columns:
        _mark_best(col, rows, baseline_id)
        if col.digits is not None:
            digits[col.key] = col.digits
        else:
            digits[col.key] = auto_digits([r.cells[col.key].value / col.scale for r in rows
                                           if r.cells[col.key].value is not None])
    floors = [f for f in noise_floor or [] if _floor_matches(f, protocols.get(f.metric))]
    return Leaderboard(
        suite=suite,
        columns=columns,
        rows=rows,
        caption=_caption(suite, runs, protocols, floors, baseline is not None, baseline_id, digits),
        protocol_notes=[
            f"{column(k).header}: {_describe_protocol(p)}" for k, p in protocols.items() if column(k).metric
        ],
        noise_floor=floors,
        baseline_id=baseline_id,
        digits=digits,
    )


def _floor_matches(floor: NoiseFloor, proto: dict[str, Any] | None) -> bool:
    """A noise floor measured with another detector (etc.) says nothing about this column."""
    if proto is None:
        return True  # no row has the metric; the floor still describes the suite
    wanted: dict[str, Any] = {}
    for k, v in floor.protocol.items():
        # {"detector": {<detector protocol>}} is compared field by field with the flat column protocol
        wanted.update(v if isinstance(v, dict) and not isinstance(proto.get(k), dict) else {k: v})
    differ = sorted(k for k in wanted.keys() & proto.keys()
                    if _canonical({"v": wanted[k]}) != _canonical({"v": proto[k]}))
    if differ:
        log.warning("noise floor of %s in %s left out: its %s differ from the table's",
                    floor.metric, floor.source, ", ".join(differ))
    return not differ


def _short(v: Any) -> str:
    """A protocol value for a caption line; the full record stays in the results.json files."""
    if isinstance(v, str) and len(v) > 16 and all(c in "0123456789abcdef" for c in v.lower()):
        return v[:12] + "…"  # a hash: the prefix identifies it
    if isinstance(v, (dict, list)):
        text = json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)
        if len(text) > 60:  # e.g. VBench constants per dimension: name it by content hash
            digest = hashlib.sha256(text.encode()).hexdigest()[:8]
            return f"[{len(v)} {'entries' if isinstance(v, dict) else 'items'}, sha256 {digest}]"
        return text
    text = str(v)
    return text if len(text) <= 80 else text[:77] + "…"


def _describe_protocol(proto: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in proto.items())


def _common(values: list[Any]) -> Any:
    uniq = {_canonical({"v": v}) for v in values}
    return values[0] if len(uniq) == 1 else None


def _caption(
    suite: str,
    runs: list[LoadedRun],
    protocols: dict[str, dict[str, Any]],
    floors: list[NoiseFloor],
    have_baseline: bool,
    baseline_id: str,
    digits: dict[str, int],
) -> str:
    results = [r.result for r in runs]
    split = _common([r.split for r in results])
    n = _common([r.num_videos for r in results])
    gen = _common([r.spec.get("generation") for r in results])
    parts = [f"vbench_lite leaderboard, suite {suite}"]
    where = f"{split} split" if split else "mixed splits"
    where += f", {n} videos per method" if n is not None else ", video counts vary"
    if isinstance(gen, dict) and {"frames", "resolution"} <= gen.keys():
        where += f" ({gen['frames']} frames at {gen['resolution']}×{gen['resolution']} px"
        where += f", {gen['fps']} fps)" if "fps" in gen else ")"
    parts.append(where)
    text = ": ".join(parts) + ". "
    text += ("Params: total parameters; NFE: network evaluations per video (CFG passes included); "
             "GFLOPs per generated video over every stage (FLOPs = 2 × multiply-accumulates). ")
    if "latency_s" in protocols:
        setting = fields.describe_latency_setting(protocols["latency_s"])
        text += f"Latency: median seconds per video at batch {fields.LATENCY_BATCH} on {setting}. "
    if have_baseline:
        text += (f"Speedup: median {baseline_id} latency / median method latency, the two timed in "
                 "interleaved pairs in one process on the same prompts and seeds. ")
    if "fvd" in protocols:
        text += "FVD ± bootstrap std. "
    if {"vbench_quality", "vbench_semantic", "vbench_total"} & protocols.keys():
        text += ("Quality, Semantic, Total: VBench-lite scores (VBench's dimension formulas with the "
                 "backbones in the protocol below; Total = (4 × Quality + Semantic) / 5). ")
    if "psnr" in protocols or "ssim" in protocols:
        text += f"PSNR and SSIM against the {baseline_id}'s videos for the same prompts and seeds. "
    if floors:
        described = []
        for f in floors:
            known = f.metric in {c.key for c in COLUMNS}
            label = column(f.metric).label if known else f.metric
            d = digits.get(f.metric, auto_digits([f.mean]))
            described.append(f"{label} {f.mean:.{d}f}" + (f" ± {f.std:.{d}f}" if f.std is not None else ""))
        detail = f"; {floors[0].detail}" if floors[0].detail else ""
        text += f"Noise floor (two disjoint draws of real videos{detail}): {', '.join(described)}. "
    ineligible = [r.method_id for r in runs if not r.result.eligible]
    if ineligible:
        text += (f"Not leaderboard-eligible (partial, validation or external runs): {', '.join(ineligible)}. ")
    text += "↑/↓: higher/lower is better; best of each column in bold; – not measured."
    return text
