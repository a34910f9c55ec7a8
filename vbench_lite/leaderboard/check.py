"""The regression policy of ``vbench-lite check --results R --baseline B``.

Per quality metric (the policy issue 7 takes from FastVideo's CI): a *regression* when the change is worse than the
relative threshold (``rel`` x |baseline value|) AND worse than the absolute threshold. The absolute
threshold is ``--abs NAME=VALUE`` when given, else twice the larger of the two stds for a metric
that records one (the bootstrap std of FVD, the subset std of KVD, the standard error of the mean
of CLIPSIM, fidelity and the VBench dimensions), else 0. An infinite baseline value (PSNR of identical
videos) has no relative slack: any finite drop is a regression.

Cost: parameters, NFE and FLOPs per video must match exactly (any difference fails: update the
reference when a cost change is intended). Latency (s per video at batch 16, lower is better) uses
the same rel/abs rule (the absolute threshold defaulting to twice the larger IQR of the measured
runs), and only when device, hardware and thread count match; otherwise it is
skipped (``latency="auto"``), refused as not comparable (``"require"``) or never compared
(``"skip"``).

*Not comparable* (exit 2) when: the suites, splits, video counts, first video indices (seed offset)
or generation settings differ;
a metric of the baseline is missing from the results (or has no value in the baseline); a metric's
version, protocol or direction differs; a cost the baseline records is missing from the results;
or latency settings differ under ``latency="require"``. Not comparable takes precedence over a
regression: a number measured another way cannot regress.

*Same protocol, other content*: a metric's ``fingerprint`` (the content hashes of what was
rendered or computed: reference videos, reference features) may differ between two runs of one
protocol, e.g. on another CPU whose float kernels round a last bit differently. Such a pair is
compared as usual; the fingerprint difference is printed as a warning beside the gated number. So
are different generated videos (``videos_sha256``).

An empty ``metrics`` list, or one naming a metric the baseline lacks, is a usage error
(``ValueError``; exit 2 in the CLI): a check that checks no quality metric never passes.

Exit codes: 0 pass, 1 regression, 2 not comparable.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from vbench_lite.leaderboard import fields
from vbench_lite.results import RunResult

EXIT_PASS, EXIT_REGRESSION, EXIT_NOT_COMPARABLE = 0, 1, 2
LATENCY_MODES = ("auto", "require", "skip")

OK, IMPROVED, REGRESSION, NOT_COMPARABLE, SKIPPED = "ok", "improved", "regression", "not comparable", "skipped"


@dataclass
class Comparison:
    name: str
    kind: str  # "metric", "exact" or "latency"
    baseline: float | None
    result: float | None
    higher_is_better: bool | None = None
    rel: float = 0.0
    abs: float = 0.0
    status: str = OK
    note: str = ""

    @property
    def worse_by(self) -> float | None:
        """How much worse the result is (negative: better); None when not computable."""
        b, r = self.baseline, self.result
        if b is None or r is None or math.isnan(b) or math.isnan(r):
            return None
        if b == r:  # also inf == inf
            return 0.0
        return (b - r) if self.higher_is_better else (r - b)


@dataclass
class CheckReport:
    results_id: str
    baseline_id: str
    comparisons: list[Comparison] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # reasons the two are not comparable
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # same protocol, different content fingerprint

    @property
    def regressions(self) -> list[Comparison]:
        return [c for c in self.comparisons if c.status == REGRESSION]

    @property
    def exit_code(self) -> int:
        if self.problems:
            return EXIT_NOT_COMPARABLE
        return EXIT_REGRESSION if self.regressions else EXIT_PASS

    @property
    def verdict(self) -> str:
        if self.problems:
            return "NOT COMPARABLE: " + "; ".join(self.problems)
        if self.regressions:
            return "REGRESSION: " + ", ".join(c.name for c in self.regressions)
        return "PASS"

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": self.results_id, "baseline": self.baseline_id, "exit_code": self.exit_code,
            "verdict": self.verdict, "problems": self.problems, "notes": self.notes, "warnings": self.warnings,
            "comparisons": [
                {k: _json_number(v) for k, v in asdict(c).items()} for c in self.comparisons
            ],
        }

    def to_markdown(self) -> str:
        lines = [
            f"Regression check: results `{self.results_id}` against baseline `{self.baseline_id}`",
            "",
            "| Check | Baseline | Result | Change | Threshold (worse than both) | Status |",
            "|:---|---:|---:|---:|:---|:---|",
        ]
        for c in self.comparisons:
            status = f"**{c.status.upper()}**" if c.status == REGRESSION else c.status
            if c.note:
                status += f" ({c.note})"
            lines.append(
                f"| {c.name}{_arrow(c)} | {_fmt(c.baseline)} | {_fmt(c.result)} | {_change(c)} "
                f"| {_threshold(c)} | {status.replace('|', '/')} |"
            )
        bullets = (
            [f"- note: {n}" for n in self.notes]
            + [f"- warning: {w}" for w in self.warnings]
            + [f"- not comparable: {p}" for p in self.problems]
        )
        lines += [""] + (bullets + [""] if bullets else []) + [f"**{self.verdict}**"]
        return "\n".join(lines) + "\n"


def compare(
    result: RunResult,
    baseline: RunResult,
    *,
    rel: float = 0.05,
    abs_thresholds: dict[str, float] | None = None,
    metrics: list[str] | None = None,
    latency: str = "auto",
    check_cost: bool = True,
) -> CheckReport:
    """Apply the policy of the module docstring to ``result`` against the reference ``baseline``."""
    if rel < 0:
        raise ValueError(f"--rel must be >= 0, got {rel}")
    if latency not in LATENCY_MODES:
        raise ValueError(f"latency mode {latency!r} unknown; use one of {', '.join(LATENCY_MODES)}")
    abs_thresholds = dict(abs_thresholds or {})
    report = CheckReport(result.method_id, baseline.method_id)
    if result.method_id != baseline.method_id:
        report.notes.append(f"different methods: {result.method_id} vs {baseline.method_id}")
    _check_setup(result, baseline, report)
    if result.videos_sha256 and baseline.videos_sha256 and result.videos_sha256 != baseline.videos_sha256:
        report.warnings.append(
            f"the generated videos differ from the baseline's (videos_sha256 {result.videos_sha256[:12]} vs "
            f"{baseline.videos_sha256[:12]}): same protocol, other content (another CPU or library build?)"
        )

    if metrics is not None and not metrics:
        raise ValueError("--metrics names no metric; give at least one (or leave it out to check all of the baseline's)")
    names = metrics if metrics is not None else sorted(baseline.metrics)
    unknown = [n for n in names if n not in baseline.metrics]
    if unknown:
        raise ValueError(
            f"metric(s) {', '.join(unknown)} not in the baseline; it has {', '.join(sorted(baseline.metrics)) or 'none'}"
        )
    for name in names:
        report.comparisons.append(_compare_metric(name, result, baseline, rel, abs_thresholds, report))
    extra = sorted(set(result.metrics) - set(baseline.metrics))
    if extra and metrics is None:
        report.notes.append(f"not in the baseline, not checked: {', '.join(extra)}")

    if check_cost:
        for name, get in (("params", fields.params), ("nfe", fields.nfe), ("flops", fields.flops)):
            report.comparisons.append(_compare_exact(name, get(result), get(baseline), report))
    if latency != "skip":
        c = _compare_latency(result, baseline, rel, abs_thresholds.get("latency_s"), latency, report)
        if c is not None:
            report.comparisons.append(c)
    leftover = set(abs_thresholds) - set(names) - {"latency_s"}
    if leftover:
        raise ValueError(f"--abs names metric(s) not checked: {', '.join(sorted(leftover))}")
    return report


def _check_setup(result: RunResult, baseline: RunResult, report: CheckReport) -> None:
    for what, a, b in (
        ("suite", result.suite, baseline.suite),
        ("split", result.split, baseline.split),
        ("number of videos", result.num_videos, baseline.num_videos),
        ("first video index", result.spec.get("seed_offset", 0), baseline.spec.get("seed_offset", 0)),
        ("generation settings", result.spec.get("generation"), baseline.spec.get("generation")),
    ):
        if a != b:
            report.problems.append(f"{what} differ ({_short(a)} vs baseline {_short(b)})")


def _apply_rule(c: Comparison) -> None:
    worse = c.worse_by
    if worse is None:
        return
    b = c.baseline
    rel_limit = c.rel * abs(b) if b is not None and math.isfinite(b) else 0.0
    if worse > rel_limit and worse > c.abs:
        c.status = REGRESSION
    elif -worse > rel_limit and -worse > c.abs:
        c.status = IMPROVED


def _compare_metric(
    name: str, result: RunResult, baseline: RunResult, rel: float, abs_thresholds: dict[str, float],
    report: CheckReport,
) -> Comparison:
    mb, mr = baseline.metrics[name], result.metrics.get(name)
    c = Comparison(name, "metric", mb.value, mr.value if mr else None, mb.higher_is_better, rel)
    if mb.value is None or math.isnan(mb.value):
        c.status, c.note = NOT_COMPARABLE, "no value in the baseline"
        report.problems.append(f"{name} has no value in the baseline")
        return c
    if mr is None:
        c.status, c.note = NOT_COMPARABLE, "missing in results"
        report.problems.append(f"{name} is missing from the results (exclude it with --metrics)")
        return c
    differ = _protocol_diff(mr, mb)
    if differ:
        c.status, c.note = NOT_COMPARABLE, f"protocol differs: {', '.join(differ)}"
        report.problems.append(f"{name} was measured under another protocol ({', '.join(differ)} differ)")
        return c
    if fp := _fingerprint_diff(mr, mb):
        c.note = f"fingerprint differs: {', '.join(fp)}"
        report.warnings.append(
            f"{name}: same protocol, other content ({'; '.join(f'{k} {a} vs baseline {b}' for k, (a, b) in fp.items())})"
        )
    if mr.value is None or math.isnan(mr.value):
        c.status, c.note = REGRESSION, "no value (NaN) in the results"
        return c
    if name in abs_thresholds:
        c.abs = abs_thresholds[name]
    else:
        stds = [s for s in (mr.std, mb.std) if s is not None and math.isfinite(s)]
        c.abs = 2.0 * max(stds) if stds else 0.0  # twice the larger bootstrap std
    _apply_rule(c)
    return c


def _protocol_diff(mr: Any, mb: Any) -> list[str]:
    differ = []
    if mr.version != mb.version:
        differ.append("version")
    if mr.higher_is_better != mb.higher_is_better:
        differ.append("higher_is_better")
    for key in sorted(set(mr.protocol) | set(mb.protocol)):
        if json.dumps(mr.protocol.get(key), sort_keys=True, default=str) != json.dumps(
            mb.protocol.get(key), sort_keys=True, default=str
        ):
            differ.append(key)
    return differ


def _fingerprint_diff(mr: Any, mb: Any) -> dict[str, tuple[str, str]]:
    """Fingerprint keys both records hold with different values -> (result, baseline), shortened."""
    fr, fb = mr.fingerprint, mb.fingerprint
    return {
        k: (_short_hash(fr[k]), _short_hash(fb[k]))
        for k in sorted(set(fr) & set(fb))
        if fr[k] != fb[k]
    }


def _short_hash(v: Any) -> str:
    text = str(v)
    return text[:12] if len(text) == 64 else _short(v)


def _compare_exact(name: str, result: float | None, baseline: float | None, report: CheckReport) -> Comparison:
    c = Comparison(name, "exact", baseline, result, higher_is_better=False)
    if baseline is None:
        c.status, c.note = SKIPPED, "not in the baseline"
    elif result is None:
        c.status, c.note = NOT_COMPARABLE, "missing in results"
        report.problems.append(f"{name} is recorded in the baseline but missing from the results")
    elif result != baseline:
        c.status, c.note = REGRESSION, "must match exactly"
    return c


def _compare_latency(
    result: RunResult, baseline: RunResult, rel: float, abs_threshold: float | None, mode: str,
    report: CheckReport,
) -> Comparison | None:
    lb, lr = fields.latency(baseline), fields.latency(result)
    if lb is None:
        return None  # the baseline has no latency: nothing to hold the results to
    if abs_threshold is None:  # twice the larger IQR: the latency counterpart of the std rule
        iqrs = [v for v in (fields.latency_iqr(baseline), fields.latency_iqr(result)) if v is not None]
        abs_threshold = 2.0 * max(iqrs) if iqrs else 0.0
    c = Comparison("latency_s", "latency", lb, lr, higher_is_better=False, rel=rel, abs=abs_threshold)
    if lr is None:
        c.status, c.note = NOT_COMPARABLE, "missing in results"
        report.problems.append("latency is recorded in the baseline but missing from the results")
        return c
    sb, sr = fields.latency_setting(baseline), fields.latency_setting(result)
    if sb != sr:
        keys = sorted(k for k in set(sb) | set(sr) if sb.get(k) != sr.get(k))
        why = f"{', '.join(keys)} differ: {fields.describe_latency_setting(sr)} vs {fields.describe_latency_setting(sb)}"
        if mode == "require":
            c.status, c.note = NOT_COMPARABLE, why
            report.problems.append(f"latency measured on another setting ({why})")
        else:
            c.status, c.note = SKIPPED, why
        return c
    _apply_rule(c)
    return c


# --- formatting ---------------------------------------------------------------------------------


def _json_number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _fmt(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v == int(v) and abs(v) >= 1000:
        return f"{int(v):d}"
    return f"{v:.6g}"


def _arrow(c: Comparison) -> str:
    if c.kind == "exact":
        return " (=)"
    return "↑" if c.higher_is_better else "↓"


def _change(c: Comparison) -> str:
    b, r = c.baseline, c.result
    if b is None or r is None or math.isnan(b) or math.isnan(r):
        return "–"
    if b == r:
        return "0"
    d = r - b
    if not math.isfinite(d):
        return _fmt(d)
    text = f"{d:+.4g}"
    if b != 0 and math.isfinite(b):
        text += f" ({d / abs(b):+.2%})"
    return text


def _threshold(c: Comparison) -> str:
    if c.kind == "exact":
        return "exact"
    return f"rel {c.rel:.0%}, abs {c.abs:.4g}"


def _short(v: Any) -> str:
    text = json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_abs(items: list[str] | None) -> dict[str, float]:
    """``["fvd=5", "kvd=0.01,clipsim=0.002"]`` -> ``{"fvd": 5.0, ...}``."""
    out: dict[str, float] = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not sep or not name.strip() or not math.isfinite(number) or number < 0:
                raise ValueError(f"--abs expects NAME=VALUE with VALUE >= 0 (e.g. fvd=5), got {part.strip()!r}")
            out[name.strip()] = number
    return out
