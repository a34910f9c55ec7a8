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
from vbench_lite.leaderboard.collect import LoadedRun, NoiseFloor, recorded_reference
from vbench_lite.metrics.base import ColumnSpec
from vbench_lite.results import RunResult

log = logging.getLogger(__name__)


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


def readable_exponent(values: list[float]) -> int:
    """The power of 10 (a multiple of 3) that brings the column's largest magnitude into [1, 1000)
    (KID papers print "KID×10³"); 0 when the numbers are readable as they are."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return 0
    return -3 * math.floor(math.log10(max(finite)) / 3)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


# --- columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The table's reference row: the method id speedup and fidelity refer to, and its run when the
    row is in the table."""

    method_id: str | None
    run: RunResult | None = None


@dataclass(frozen=True)
class Column:
    key: str  # machine name (CSV header)
    label: str  # header text without the arrow
    better: str | None  # "higher", "lower" or None
    value: Callable[[RunResult, Reference], float | None]  # (run, the table's reference) -> value
    # Decimals shown, declared per metric (FVD 1, CLIPSIM 3, ...); None: chosen per column so the
    # smallest value gets 3 significant digits (auto_digits), for costs whose magnitude varies.
    digits: int | None
    metric: str | None = None  # metric name: protocol and std come from its MetricResult
    show_std: bool = False
    unit: str = ""  # written after the number in text formats (e.g. "×")
    protocol: Callable[[RunResult], dict[str, Any] | None] | None = None
    scale: float = 1.0  # the value shown is value / scale (e.g. parameters in millions)
    # Scaled by a power of 10^3 chosen from the column's values, named in the header ("KVD×10³"),
    # so a small-valued metric is printed with readable digits whatever the detector's magnitude.
    rescale: bool = False
    # Measured against the reference row (fidelity): the reference's own value (PSNR inf, SSIM 1)
    # is shown as "ref", never as a number that could be read as a result.
    vs_reference: bool = False
    # (run, reference run) -> (low, high) of an interval to print beside the value (e.g. a
    # paired-speedup bootstrap interval), in the value's units.
    interval: Callable[[RunResult, Reference], tuple[float, float] | None] | None = None
    group: str = ""  # the spanning header above the column in the LaTeX table ("Cost", "VBench-lite", ...)
    short: str = ""  # a shorter label for the LaTeX table, under its group header ("Sem." under VBench-lite)

    @property
    def arrow(self) -> str:
        return {"higher": "↑", "lower": "↓"}.get(self.better or "", "")

    @property
    def header(self) -> str:
        return f"{self.label}{self.arrow}"


def _speedup(run: RunResult, ref: Reference) -> float | None:
    """The paired speedup (vbench_lite.profile.paired), never a ratio of two separate timings."""
    return fields.speedup(run, ref.run, ref.method_id)


def _speedup_interval(run: RunResult, ref: Reference) -> tuple[float, float] | None:
    return fields.speedup_interval(run, ref.run, ref.method_id)


COST = "Cost"

# The harness's own columns: the cost of a generated video. The quality columns come from the
# registered metrics' declarations (Metric.columns), so a plugin metric reaches every table format.
COST_COLUMNS: tuple[Column, ...] = (
    Column("params", "Params (M)", "lower", lambda r, _b: fields.params(r), None, scale=1e6, group=COST),
    Column("nfe", "NFE", "lower", lambda r, _b: fields.nfe(r), 0, group=COST),
    Column("gflops", "GFLOPs", "lower", lambda r, _b: fields.gflops(r), None, group=COST),
    Column("latency_s", "Latency (s)", "lower", lambda r, _b: fields.latency(r), None, group=COST,
           protocol=lambda r: fields.latency_setting(r) if fields.latency(r) is not None else None),
    # protocol: rows paired against another reference build, batch, device or thread count never share the column
    Column("speedup", "Speedup", "higher", _speedup, 2, unit="×", group=COST, interval=_speedup_interval,
           protocol=fields.speedup_setting),
)


def column_from_spec(spec: ColumnSpec, higher_is_better: bool) -> Column:
    """The table column of a metric's declared :class:`~vbench_lite.metrics.base.ColumnSpec`."""
    name = spec.result
    better = "higher" if (higher_is_better if spec.higher_is_better is None else spec.higher_is_better) else "lower"
    return Column(spec.key or name, spec.label, better, lambda run, _r: fields.metric_value(run, name), spec.digits,
                  metric=name, show_std=spec.show_std, unit=spec.unit, rescale=spec.rescale,
                  vs_reference=spec.vs_reference, group=spec.group, short=spec.short)


def metric_columns() -> tuple[tuple[str, Column], ...]:
    """Every registered metric's declared columns as (metric name, column), in their declared
    order (a metric that cannot be loaded is reported and left out)."""
    from vbench_lite.registries import METRICS

    specs: list[tuple[float, int, str, ColumnSpec, bool]] = []
    for name in METRICS.names():
        try:
            cls = METRICS.get(name)
        except ImportError as exc:
            log.warning("metric %s left out of the leaderboard columns: %s", name, exc)
            continue
        for i, spec in enumerate(getattr(cls, "columns", ())):
            specs.append((spec.order, i, name, spec, bool(getattr(cls, "higher_is_better", True))))
    specs.sort(key=lambda t: (t[0], t[2], t[1]))
    cols = tuple((name, column_from_spec(spec, higher)) for _, _, name, spec, higher in specs)
    keys = [c.key for c in COST_COLUMNS] + [c.key for _, c in cols]
    if dup := sorted({k for k in keys if keys.count(k) > 1}):
        raise ValueError(f"leaderboard columns declared twice: {', '.join(dup)}; give each metric column its own key")
    return cols


def default_columns(runs: list[LoadedRun]) -> tuple[Column, ...]:
    """The cost columns, then the declared columns of every metric that reported any of them in
    at least one row (a metric's missing values in other rows read "–")."""
    present = {name for r in runs for name in r.result.metrics}
    declared = metric_columns()
    shown = {metric for metric, c in declared if c.metric in present}
    return COST_COLUMNS + tuple(c for metric, c in declared if metric in shown)


# --- the model -----------------------------------------------------------------------------------


@dataclass
class Cell:
    value: float | None
    std: float | None = None
    best: bool = False
    interval: tuple[float, float] | None = None  # (low, high), in the value's units
    reference: bool = False  # the reference row's own value of a vs_reference column: shown as "ref"


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
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)  # column key -> the shared record
    noise_floor: list[NoiseFloor] = field(default_factory=list)
    baseline_id: str | None = None  # the reference row (the runs' reference method)
    digits: dict[str, int] = field(default_factory=dict)  # decimals shown per column key
    exponents: dict[str, int] = field(default_factory=dict)  # rescaled columns: shown = value × 10^e

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def protocol_notes(self) -> list[str]:
        """One line per metric column: its protocol record, hashes and long values shortened."""
        return [f"{self.column(k).header}: {_describe_protocol(p)}" for k, p in self.protocols.items()
                if self.column(k).metric]

    def header(self, col: Column, *, short: bool = False) -> str:
        """The column's header as shown, with the readable-unit factor of a rescaled column."""
        e = self.exponents.get(col.key, 0)
        factor = f"×10{str(e).translate(_SUPERSCRIPT)}" if e else ""
        return f"{(col.short or col.label) if short else col.label}{factor}{col.arrow}"

    def shown(self, col: Column, x: float) -> float:
        """A value in the units the table shows it in (scaled, rescaled; not rounded)."""
        return x / col.scale * 10.0 ** self.exponents.get(col.key, 0)

    def fmt(self, col: Column, x: float) -> str:
        """A finite number of ``col`` as shown (scaled, the column's decimals, no unit)."""
        return f"{self.shown(col, x):.{self.digits.get(col.key, 2)}f}"


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


def _mark_best(lb: Leaderboard, col: Column) -> None:
    """Bold the strict best of the column among the rows other than the reference, compared as
    printed: a tie at the shown precision (equal parameter counts, equal NFE) marks nothing."""
    if col.better is None:
        return
    contenders = [
        r for r in lb.rows
        if r.method_id != lb.baseline_id and r.cells[col.key].value is not None
        and not math.isnan(r.cells[col.key].value)
    ]
    if len(contenders) < 2:  # a single value is not "best" of anything
        return

    def as_printed(r: Row) -> float:
        v = r.cells[col.key].value
        assert v is not None
        return float(lb.fmt(col, v)) if math.isfinite(v) else v

    pick = max if col.better == "higher" else min
    best = pick(as_printed(r) for r in contenders)
    winners = [r for r in contenders if as_printed(r) == best]
    if len(winners) == 1:
        winners[0].cells[col.key].best = True


def build(
    runs: list[LoadedRun],
    *,
    suite: str,
    noise_floor: list[NoiseFloor] | None = None,
    baseline_id: str | None = None,
    columns: tuple[Column, ...] | None = None,
) -> Leaderboard:
    """The table of ``runs`` (one per method id, e.g. from :func:`collect.latest_eligible`); the
    reference row is ``baseline_id``, by default the reference method the runs recorded."""
    if not runs:
        raise ValueError(
            f"no eligible results for suite {suite!r}; run methods on the full eval split "
            "(`python -m vbench_lite run --method NAME`, its --out given as --results), "
            "or pass --include-ineligible for partial or external runs"
        )
    if baseline_id is None:
        baseline_id = recorded_reference(runs)
    if columns is None:
        columns = default_columns(runs)
    runs = sorted(runs, key=lambda r: (r.method_id != baseline_id, r.method_id))  # the reference row first
    ids = [r.method_id for r in runs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"more than one run per method in the table: {ids}; pick one each")
    baseline = next((r.result for r in runs if r.method_id == baseline_id), None)
    ref = Reference(baseline_id, baseline)
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
            interval = col.interval(run.result, ref) if col.interval is not None else None
            is_ref = col.vs_reference and run.method_id == baseline_id
            cells[col.key] = Cell(col.value(run.result, ref), std, interval=interval, reference=is_ref)
        rows.append(Row(run.method_id, run, cells))
    digits, exponents = {}, {}
    for col in columns:
        shown = [r.cells[col.key].value / col.scale for r in rows
                 if r.cells[col.key].value is not None and not r.cells[col.key].reference]
        if col.rescale:
            exponents[col.key] = readable_exponent(shown)
            shown = [v * 10.0 ** exponents[col.key] for v in shown]
        digits[col.key] = col.digits if col.digits is not None else auto_digits(shown)
    floors = [f for f in noise_floor or [] if _floor_matches(f, protocols.get(f.metric))]
    lb = Leaderboard(
        suite=suite,
        columns=columns,
        rows=rows,
        caption="",
        protocols=protocols,
        noise_floor=floors,
        baseline_id=baseline_id,
        digits=digits,
        exponents={k: e for k, e in exponents.items() if e},
    )
    for col in columns:
        _mark_best(lb, col)
    lb.caption = _caption(lb, runs, baseline is not None)
    return lb


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


def common_value(values: list[Any]) -> Any:
    """The value every entry has (compared as canonical JSON), else None."""
    uniq = {_canonical({"v": v}) for v in values}
    return values[0] if len(uniq) == 1 else None


def _caption(lb: Leaderboard, runs: list[LoadedRun], have_baseline: bool) -> str:
    results = [r.result for r in runs]
    protocols, baseline_id = lb.protocols, lb.baseline_id
    split = common_value([r.split for r in results])
    n = common_value([r.num_videos for r in results])
    gen = common_value([r.spec.get("generation") for r in results])
    parts = [f"vbench_lite leaderboard, suite {lb.suite}"]
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
    # a paired speedup is explained whenever the table shows one, also when the reference's own row
    # is not in it (a board of 24 px subnets timed against the 32 px baseline)
    reference = next((r.result for r in runs if r.method_id == baseline_id), None)
    paired = [rec for r in runs if (rec := fields._paired_against(r.result, reference, baseline_id))]
    if have_baseline or paired:
        text += (f"Speedup: median {baseline_id} latency / median method latency, the two timed in "
                 "interleaved pairs in one process on the same prompts and seeds")
        sizes = sorted({g["resolution"] for rec in paired if isinstance(g := rec.get("reference_generation"), dict)
                        and isinstance(g.get("resolution"), int)})
        if sizes:
            text += (f" ({baseline_id} making its own {', '.join(f'{v}×{v}' for v in sizes)} px videos: "
                     "the speedup of a video, not of a resolution)")
        if any(r.cells["speedup"].interval for r in lb.rows if "speedup" in r.cells):
            text += " [paired-bootstrap 95% interval]"
        if not have_baseline:
            text += f"; the {baseline_id}'s own row is not in this table"
        text += ". "
        unstable = {r.method_id: fields.speedup_unstable(r.result) for r in runs}
        if flagged := {k: v for k, v in unstable.items() if v}:
            text += ("Speedups measured on a busy machine (flagged unstable): "
                     + "; ".join(f"{k} ({', '.join(v)})" for k, v in flagged.items()) + ". ")
    spreads = (["FVD ± bootstrap std"] if "fvd" in protocols else []) + \
              (["KVD ± std over kernel subsets"] if "kvd" in protocols else [])
    if spreads:
        text += "; ".join(spreads) + ". "
    for key, e in lb.exponents.items():
        text += f"{lb.column(key).label} is shown × 10^{e}. "
    if {"vbench_quality", "vbench_semantic", "vbench_total"} & protocols.keys():
        text += ("Quality, Semantic, Total: VBench-lite scores (VBench's dimension formulas with the "
                 "backbones of the protocol table; Total = (4 × Quality + Semantic) / 5). ")
        dims = protocols.get("vbench_total", {}).get("dimensions")
        if dims:  # so nobody reads it as VBench's 16-dimension Total
            text += f"Total over {len(dims)} dimensions, not VBench's 16: {', '.join(dims)}. "
    if "psnr" in protocols or "ssim" in protocols:
        text += (f"PSNR (dB) and SSIM against the {baseline_id}'s videos for the same prompts and seeds "
                 f"(none for the {baseline_id} itself). ")
    if lb.noise_floor:
        described = []
        for f in lb.noise_floor:
            known = f.metric in {c.key for c in lb.columns}
            label = lb.column(f.metric).label if known else f.metric
            if known:
                c = lb.column(f.metric)
                d = lb.digits.get(f.metric, 2)
                mean, std = lb.fmt(c, f.mean), (lb.fmt(c, f.std) if f.std is not None else None)
            else:
                d = auto_digits([f.mean])
                mean, std = f"{f.mean:.{d}f}", (f"{f.std:.{d}f}" if f.std is not None else None)
            described.append(f"{label} {mean}" + (f" ± {std}" if std is not None else ""))
        detail = f"; {lb.noise_floor[0].detail}" if lb.noise_floor[0].detail else ""
        text += f"Noise floor (two disjoint draws of real videos{detail}): {', '.join(described)}. "
    ineligible = [r.method_id for r in runs if not r.result.eligible]
    if ineligible:
        text += (f"Not leaderboard-eligible (partial, validation or external runs): {', '.join(ineligible)}. ")
    bold = "bold: the strict best of each column"
    if have_baseline:
        bold += f" among the methods other than the {baseline_id}"
    text += f"↑/↓: higher/lower is better; {bold}; – not measured."
    return text
