"""Tolerant accessors for the parts of a :class:`~vbench_lite.results.RunResult` that tables read.

Every table, plot and regression check reads results through these functions and nowhere else,
so a change in how the run pipeline names a key is fixed here once. Each returns ``None`` when
the value is absent (a missing value is shown as "–", never as 0).

Expected keys (schema ``vbench_lite.results/1``):

- ``metrics[NAME]`` (:class:`~vbench_lite.results.MetricResult`) for NAME in ``fvd`` (``std`` =
  bootstrap std), ``kvd`` (``std`` over subsets), ``clipsim``, ``vbench_quality``,
  ``vbench_semantic``, ``vbench_total`` (and ``vbench_<dimension>``), ``psnr`` (may be inf for
  videos identical to the baseline's), ``ssim``; ``psnr``/``ssim`` are also read from
  ``fidelity_psnr``/``fidelity_ssim`` (:data:`METRIC_ALIASES`).
- ``method_info["params"]``: int, or a dict with ``"total"``; ``method_info["nfe"]``: int;
  ``method_info["steps"]``. Falls back to ``profile["params"]``/``profile["parameters"]``.
- ``profile["flops"]``: ``{"total": float, "unit": "FLOP", ...}`` (a bare number is read as FLOP;
  ``"MAC"`` is converted with FLOP = 2 MAC).
- ``profile["latency"]``: ``{"batch16": {"median_s_per_video": float, ...}, "batch1": {...},
  "device": str, "threads": int}``; ``"batch_16"`` / ``"16"`` / any entry with ``"per": 16``, and
  ``"seconds_per_video"`` / ``"s_per_video"`` / ``"median_s" / "per"`` are also read (the form of
  ``vbench_lite.profile.latency.LatencyReport.to_dict``); ``device``/``threads`` inside the entry win.
- ``profile["speedup"]``: the paired measurement against the reference
  (:mod:`vbench_lite.profile.paired`, schema ``vbench_lite.paired_latency/1``): ``speedup``,
  ``interval`` [low, high], ``reference``, ``reference_weights_sha256``, ``batch``, ``device``,
  ``threads``, ``unstable`` and ``unstable_reasons``.
- ``profile["device"]``; ``env["device"]``, ``env["cpu"]``, ``env["gpu"]``, ``env["torch_threads"]``.
"""

from __future__ import annotations

import math
from typing import Any

from vbench_lite.results import MetricResult, RunResult

# Multipliers to FLOPs (FLOPs = 2 x multiply-accumulates, as the profiler counts them).
FLOP_UNITS = {"FLOP": 1.0, "FLOPS": 1.0, "KFLOP": 1e3, "MFLOP": 1e6, "GFLOP": 1e9, "TFLOP": 1e12, "MAC": 2.0}

LATENCY_BATCH = 16  # the throughput view: seconds per video at the generation batch size


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    return None


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


# Table names -> the names metrics record them under, first match wins
# (vbench_lite.metrics.fidelity writes "fidelity_psnr" / "fidelity_ssim").
METRIC_ALIASES: dict[str, tuple[str, ...]] = {
    "psnr": ("psnr", "fidelity_psnr"),
    "ssim": ("ssim", "fidelity_ssim"),
    "lpips": ("lpips", "fidelity_lpips"),
}


def metric_entry(run: RunResult, name: str) -> MetricResult | None:
    """The recorded entry for table name ``name`` (through :data:`METRIC_ALIASES`), value or not."""
    for key in METRIC_ALIASES.get(name, (name,)):
        if key in run.metrics:
            return run.metrics[key]
    return None


def metric(run: RunResult, name: str) -> MetricResult | None:
    """The metric entry, or ``None`` when absent or without a value (NaN counts as absent)."""
    m = metric_entry(run, name)
    if m is None or m.value is None or math.isnan(m.value):
        return None
    return m


def metric_value(run: RunResult, name: str) -> float | None:
    m = metric(run, name)
    return None if m is None else m.value


def metric_std(run: RunResult, name: str) -> float | None:
    m = metric(run, name)
    if m is None or m.std is None or not math.isfinite(m.std):
        return None
    return m.std


def params(run: RunResult) -> float | None:
    """Total parameter count."""
    for p in (
        run.method_info.get("params"),
        _get(run.profile, "params"),
        _get(run.profile, "parameters"),
    ):
        if isinstance(p, dict):
            p = p.get("total")
        if (v := _number(p)) is not None:
            return v
    return None


def nfe(run: RunResult) -> float | None:
    """Network function evaluations per video (CFG passes included)."""
    return _number(run.method_info.get("nfe"))


def flops(run: RunResult) -> float | None:
    """FLOPs per generated video (converted to FLOP from the recorded unit)."""
    f = _get(run.profile, "flops")
    if isinstance(f, dict):
        total, unit = _number(f.get("total")), str(f.get("unit", "FLOP")).upper()
    else:
        total, unit = _number(f), "FLOP"
    if total is None or unit not in FLOP_UNITS:
        return None
    return total * FLOP_UNITS[unit]


def gflops(run: RunResult) -> float | None:
    f = flops(run)
    return None if f is None else f / 1e9


def _latency_entry(run: RunResult, batch: int) -> dict[str, Any] | None:
    lat = _get(run.profile, "latency")
    if not isinstance(lat, dict):
        return None
    for key in (f"batch{batch}", f"batch_{batch}", str(batch)):
        if isinstance(lat.get(key), dict):
            return lat[key]
    # any entry measured per `batch` videos (vbench_lite.profile.latency.LatencyReport.to_dict(per=...))
    for entry in lat.values():
        if isinstance(entry, dict) and (entry.get("per") == batch or entry.get("batch") == batch):
            return entry
    return None


def latency(run: RunResult, batch: int = LATENCY_BATCH) -> float | None:
    """Median seconds per video at the given batch size."""
    e = _latency_entry(run, batch)
    if e is None:
        return None
    for key in ("median_s_per_video", "seconds_per_video", "s_per_video"):
        if (v := _number(e.get(key))) is not None:
            return v
    median, per = _number(e.get("median_s")), _number(e.get("per"))
    if median is not None and per:
        return median / per
    return None


def latency_iqr(run: RunResult, batch: int = LATENCY_BATCH) -> float | None:
    """Interquartile range of the measured runs, in seconds per video (``iqr_s / per``)."""
    e = _latency_entry(run, batch)
    if e is None:
        return None
    iqr = _number(e.get("iqr_s_per_video"))
    if iqr is None and (raw := _number(e.get("iqr_s"))) is not None:
        iqr = raw / (_number(e.get("per")) or 1.0) if "per" in e else raw
    return iqr


def latency_setting(run: RunResult, batch: int = LATENCY_BATCH) -> dict[str, Any]:
    """What a latency number depends on: device, hardware name, thread count and batch size.

    Keys with unknown values are left out; two latencies are comparable when these dicts are equal.
    """
    lat = _get(run.profile, "latency") or {}
    entry = _latency_entry(run, batch) or {}
    device = entry.get("device") or lat.get("device") or _get(run.profile, "device") or run.env.get("device")
    threads = entry.get("threads") or lat.get("threads") or run.env.get("torch_threads")
    setting: dict[str, Any] = {"batch": batch}
    if device is not None:
        setting["device"] = str(device)
        is_gpu = str(device).startswith("cuda")
        hardware = run.env.get("gpu") if is_gpu else run.env.get("cpu")
        if hardware:
            setting["hardware"] = str(hardware)
    if threads is not None:
        setting["threads"] = int(threads)
    return setting


def describe_latency_setting(setting: dict[str, Any]) -> str:
    """Human form, e.g. ``cpu (Intel Xeon ..., 2 threads)``."""
    device = setting.get("device", "unknown device")
    extra = [str(setting["hardware"])] if setting.get("hardware") and setting["hardware"] != device else []
    if "threads" in setting:
        n = setting["threads"]
        extra.append(f"{n} thread" + ("" if n == 1 else "s"))
    return f"{device} ({', '.join(extra)})" if extra else str(device)


# --- the paired speedup ----------------------------------------------------------------------------


def paired_speedup(run: RunResult) -> dict[str, Any] | None:
    """The run's paired latency record against its reference, ``None`` when it has none."""
    rec = _get(run.profile, "speedup")
    if not isinstance(rec, dict) or _number(rec.get("speedup")) is None or not isinstance(rec.get("reference"), str):
        return None
    return rec


def _paired_against(run: RunResult, reference: RunResult | None, reference_id: str) -> dict[str, Any] | None:
    """The record, if it was measured against the table's reference (by name and, when the
    reference row is there, by its weights): a speedup over another baseline build is not this one."""
    rec = paired_speedup(run)
    if rec is None or rec["reference"] != (reference.method_id if reference is not None else reference_id):
        return None
    if reference is not None:
        theirs, ours = reference.method_info.get("weights_sha256"), rec.get("reference_weights_sha256")
        if theirs and ours and theirs != ours:
            return None
    return rec


def speedup(run: RunResult, reference: RunResult | None, reference_id: str = "baseline") -> float | None:
    """Paired speedup over the reference (ratio of medians, reference time / method time); the
    reference's own row is 1 by definition. ``None`` without a paired record against it."""
    if run.method_id == (reference.method_id if reference is not None else reference_id):
        return 1.0
    rec = _paired_against(run, reference, reference_id)
    return None if rec is None else _number(rec["speedup"])


def speedup_interval(run: RunResult, reference: RunResult | None,
                     reference_id: str = "baseline") -> tuple[float, float] | None:
    """The speedup's bootstrap 95% interval over the pairs (``None`` for the reference row)."""
    rec = _paired_against(run, reference, reference_id)
    iv = rec.get("interval") if rec is not None else None
    if not isinstance(iv, list) or len(iv) != 2 or any(_number(x) is None for x in iv):
        return None
    return float(iv[0]), float(iv[1])


def speedup_unstable(run: RunResult) -> list[str]:
    """Why the run's paired measurement was flagged unstable (load, run-queue wait, CPU/wall, width)."""
    rec = paired_speedup(run)
    if rec is None or not rec.get("unstable"):
        return []
    return [str(r) for r in rec.get("unstable_reasons") or ["flagged unstable"]]


def speedup_setting(run: RunResult) -> dict[str, Any] | None:
    """What a paired speedup depends on: the protocol, the reference (name and weights), batch,
    device, hardware and threads; two speedups are comparable when these dicts are equal."""
    rec = paired_speedup(run)
    if rec is None:
        return None
    setting: dict[str, Any] = {"protocol": rec.get("protocol", "paired-interleaved"), "reference": rec["reference"]}
    if rec.get("reference_weights_sha256"):
        setting["reference_weights_sha256"] = rec["reference_weights_sha256"]
    for key in ("batch", "device", "threads"):
        if rec.get(key) is not None:
            setting[key] = rec[key]
    device = str(rec.get("device", run.env.get("device", "")))
    hardware = run.env.get("gpu") if device.startswith("cuda") else run.env.get("cpu")
    if hardware:
        setting["hardware"] = str(hardware)
    return setting
