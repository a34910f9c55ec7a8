"""Accessors for the parts of a :class:`~vbench_lite.results.RunResult` that tables read.

Every table, plot and regression check reads results through these functions and nowhere else.
The results are typed (schema ``vbench_lite.results/2``, :mod:`vbench_lite.cost`; a ``/1`` file is
upgraded when it is read, so the spellings older files used are resolved there, once). Each
accessor returns ``None`` when the value is absent (a missing value is shown as "–", never as 0).

- ``metrics[NAME]`` (:class:`~vbench_lite.results.MetricResult`), by the name the metric reports
  it under (``fvd``, ``kvd``, ``clipsim``, ``vbench_total``, ``fidelity_psnr``, ...).
- ``method_info.params`` / ``.nfe`` (:class:`~vbench_lite.cost.MethodInfo`), parameters falling
  back to ``profile.params.total``.
- ``profile.flops.total`` (FLOPs per video), ``profile.latency_at(batch)``
  (:class:`~vbench_lite.cost.LatencyStat`), ``profile.speedup``: the paired measurement against the
  reference (:mod:`vbench_lite.profile.paired`, schema ``vbench_lite.paired_latency/1``):
  ``speedup``, ``interval`` [low, high], ``reference``, ``reference_weights_sha256``, ``batch``,
  ``device``, ``threads``, ``unstable`` and ``unstable_reasons``.
- ``env["device"]``, ``env["cpu"]``, ``env["gpu"]``, ``env["torch_threads"]``.
"""

from __future__ import annotations

import math
from typing import Any

from vbench_lite.cost import LatencyStat
from vbench_lite.results import MetricResult, RunResult

LATENCY_BATCH = 16  # the throughput view: seconds per video at the generation batch size


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    return None


def metric_entry(run: RunResult, name: str) -> MetricResult | None:
    """The recorded entry for ``name``, value or not."""
    return run.metrics.get(name)


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
    if run.method_info.params is not None:
        return float(run.method_info.params)
    if run.profile is not None and run.profile.params is not None:
        return float(run.profile.params.total)
    return None


def nfe(run: RunResult) -> float | None:
    """Network function evaluations per video (CFG passes included)."""
    return _number(run.method_info.nfe)


def flops(run: RunResult) -> float | None:
    """FLOPs per generated video."""
    f = run.profile.flops if run.profile is not None else None
    return None if f is None else _number(f.total)


def gflops(run: RunResult) -> float | None:
    f = flops(run)
    return None if f is None else f / 1e9


def _latency_entry(run: RunResult, batch: int) -> LatencyStat | None:
    return run.profile.latency_at(batch) if run.profile is not None else None


def latency(run: RunResult, batch: int = LATENCY_BATCH) -> float | None:
    """Median seconds per video at the given batch size."""
    e = _latency_entry(run, batch)
    return None if e is None else e.median_s_per_video


def latency_iqr(run: RunResult, batch: int = LATENCY_BATCH) -> float | None:
    """Interquartile range of the measured runs, in seconds per video (``iqr_s / per``)."""
    e = _latency_entry(run, batch)
    return None if e is None else e.iqr_s_per_video


def latency_setting(run: RunResult, batch: int = LATENCY_BATCH) -> dict[str, Any]:
    """What a latency number depends on: device, hardware name, thread count and batch size.

    Keys with unknown values are left out; two latencies are comparable when these dicts are equal.
    """
    entry = _latency_entry(run, batch)
    prof = run.profile
    device = (entry.device if entry else None) or (prof.device if prof else None) or run.env.get("device")
    threads = (entry.threads if entry else None) or run.env.get("torch_threads")
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
    rec = run.profile.speedup if run.profile is not None else None
    if not isinstance(rec, dict) or _number(rec.get("speedup")) is None or not isinstance(rec.get("reference"), str):
        return None
    return rec


def _paired_against(run: RunResult, reference: RunResult | None, reference_id: str | None) -> dict[str, Any] | None:
    """The record, if it was measured against the table's reference (by name and, when the
    reference row is there, by its weights): a speedup over another baseline build is not this one."""
    rec = paired_speedup(run)
    if rec is None or rec["reference"] != (reference.method_id if reference is not None else reference_id):
        return None
    if reference is not None:
        theirs, ours = reference.method_info.weights_sha256, rec.get("reference_weights_sha256")
        if theirs and ours and theirs != ours:
            return None
    return rec


def speedup(run: RunResult, reference: RunResult | None, reference_id: str | None = None) -> float | None:
    """Paired speedup over the reference (ratio of medians, reference time / method time); the
    reference's own row is 1 by definition. ``None`` without a paired record against it."""
    if run.method_id == (reference.method_id if reference is not None else reference_id):
        return 1.0
    rec = _paired_against(run, reference, reference_id)
    return None if rec is None else _number(rec["speedup"])


def speedup_interval(run: RunResult, reference: RunResult | None,
                     reference_id: str | None = None) -> tuple[float, float] | None:
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
