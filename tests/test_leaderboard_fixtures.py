"""Synthetic but schema-true results files for the leaderboard and check tests.

They are built with the real dataclasses of ``vbench_lite.results`` and saved through the real
atomic writer: legitimate inputs for a renderer that only reads results files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbench_lite.results import MetricResult, RunResult

FVD_PROTOCOL = {"detector": "shapes-video", "weights_sha256": "ab" * 32, "frames": 16, "resolution": 32,
                "num_generated": 256, "num_reference": 256, "covariance": "unbiased"}
HIGHER = {"fvd": False, "kvd": False, "clipsim": True, "vbench_quality": True, "vbench_semantic": True,
          "vbench_total": True, "psnr": True, "ssim": True, "vbench_subject_consistency": True,
          "fidelity_psnr": True, "fidelity_ssim": True}


def make_run(
    method: str,
    variant: str | None = None,
    *,
    created: str = "2026-11-22T03:00:00Z",
    run_id: str | None = None,
    eligible: bool = True,
    num_videos: int = 256,
    metrics: dict[str, float | tuple[float, float | None]] | None = None,
    protocols: dict[str, dict[str, Any]] | None = None,
    params: int | None = 1_000_000,
    nfe: int | None = 50,
    flops: float | None = 2.5e11,
    latency: float | None = 0.8,
    speedup: tuple[float, float, float] | None = None,  # paired (speedup, low, high) against the baseline
    device: str = "cpu",
    threads: int = 2,
    suite: str = "shapes",
    split: str = "eval",
) -> RunResult:
    metric_results = {}
    for name, v in (metrics or {}).items():
        value, std = v if isinstance(v, tuple) else (v, None)
        proto = dict(FVD_PROTOCOL) if name in ("fvd", "kvd") else {"backbone": "embedded", "frames": 16}
        proto.update((protocols or {}).get(name, {}))
        metric_results[name] = MetricResult(name, "1", value, HIGHER[name], proto, std)
    profile: dict[str, Any] | None = {}
    if flops is not None:
        profile["flops"] = {"total": flops, "unit": "FLOP", "by_stage": {"denoise": flops}}
    if latency is not None:
        # the form of vbench_lite.profile.latency.LatencyReport.to_dict(per=batch)
        profile["latency"] = {
            "seconds_per_video": latency,
            "throughput": {"batch": 16, "per": 16, "median_s": 16 * latency, "iqr_s": 16 * 0.01,
                           "seconds_per_video": latency, "threads": threads, "device": device},
            "interactive": {"batch": 1, "per": 1, "median_s": 3 * latency, "iqr_s": 0.01,
                            "seconds_per_video": 3 * latency, "threads": threads, "device": device},
        }
    if speedup is not None:
        # the form of vbench_lite.profile.method_profile's paired record (vbench_lite.profile.paired)
        profile["speedup"] = {
            "schema": "vbench_lite.paired_latency/1", "protocol": "paired-interleaved", "reference": "baseline",
            "speedup": speedup[0], "interval": [speedup[1], speedup[2]], "pairs": 9, "batch": 16,
            "device": device, "threads": threads, "unstable": False, "unstable_reasons": [],
        }
    info: dict[str, Any] = {"steps": nfe}
    if params is not None:
        info["params"] = params
    if nfe is not None:
        info["nfe"] = nfe
    mid = f"{method}:{variant}" if variant else method
    return RunResult(
        method=method, variant=variant, suite=suite, split=split, num_videos=num_videos, eligible=eligible,
        spec={"method": method, "variant": variant, "generation": {"frames": 16, "resolution": 32, "fps": 8},
              "reference_method": "baseline"},
        spec_hash="0" * 64, method_info=info, metrics=metric_results, profile=profile or None,
        env={"device": device, "cpu": "Test CPU", "torch_threads": threads},
        run_id=run_id or f"{created.replace(':', '')}-{mid}", created=created,
    )


def save(root: Path, run: RunResult) -> Path:
    d = root / run.suite / run.method_id / run.run_id
    run.save(d)
    return d


def standard_results(root: Path) -> Path:
    """Baseline + two methods (one with missing metrics), plus runs that must not be picked."""
    save(root, make_run("baseline", metrics={"fvd": (100.0, 4.0), "kvd": (0.02, 0.002), "clipsim": 0.30,
                                             "vbench_total": 0.80, "fidelity_psnr": float("inf"), "fidelity_ssim": 1.0},
                        params=2_000_000, nfe=50, flops=4e11, latency=1.0))
    save(root, make_run("tpdiff", metrics={"fvd": (90.0, 5.0), "kvd": (0.03, 0.003), "clipsim": 0.31,
                                           "vbench_total": 0.78, "fidelity_psnr": 25.0, "fidelity_ssim": 0.9},
                        params=2_000_000, nfe=50, flops=2e11, latency=0.5, speedup=(2.0, 1.9, 2.1)))
    # SNED: no CLIPSIM, no latency, no PSNR/SSIM recorded
    save(root, make_run("sned", "s-32", metrics={"fvd": (120.0, 6.0), "kvd": (0.05, 0.004),
                                                 "vbench_total": 0.75},
                        params=800_000, nfe=None, flops=1e11, latency=None))
    # an older eligible tpdiff run and a newer partial one: neither may be picked
    save(root, make_run("tpdiff", created="2026-11-21T00:00:00Z", metrics={"fvd": (1.0, 0.1)}))
    save(root, make_run("tpdiff", created="2026-11-23T00:00:00Z", eligible=False, num_videos=16,
                        metrics={"fvd": (2.0, 0.1)}))
    # another suite is never mixed in
    save(root, make_run("baseline", suite="other", metrics={"fvd": (3.0, 0.1)}))
    return root
