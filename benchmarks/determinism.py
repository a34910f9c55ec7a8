"""How far generated videos and metrics move with CPU execution settings (issue 18).

The CI gate (``.ci/run``) compares a fresh run of the baseline on 32 validation videos with the
committed reference made on another machine. The shapes suite's rendering is exact integer
arithmetic (``vbench_lite/suites/shapes/render.py``), so the reference videos are the same bytes
everywhere; the networks (the method's UNet and decoder, the feature detectors) run float32
kernels whose last bits depend on the CPU's SIMD width, FMA use and the library's kernel choice.
This script measures that spread on one machine, each setting in its own process with its own
empty cache, against the default setting (torch's default threads, oneDNN on, no determinism
flag):

- ``threads1`` / ``threads2``: ``torch.set_num_threads``;
- ``deterministic``: ``torch.use_deterministic_algorithms(True)``;
- ``no-onednn``: ``torch.backends.mkldnn.enabled = False`` (convolutions take another kernel:
  the closest a single machine gets to another CPU's code path).

It prints, per setting: how many generated videos differ from the default's and by how many grey
levels at most, and every gated metric's relative change. Usage::

    python benchmarks/determinism.py [--num-videos 32] [--settings threads1,threads2,deterministic,no-onednn]

Measured (2026-12-01, Intel Xeon, 2 cores shared with other jobs; default = 2 threads; command
``python benchmarks/determinism.py --settings threads1,deterministic,no-onednn``):
threads1: 0/32 videos differ, largest metric change 3.1e-8 relative (FVD), reference-feature
fingerprint differs; deterministic: 0/32, 0, fingerprints equal; no-onednn: 26/32 videos differ
in 75 uint8 values by 1 grey level, largest change 3.5e-5 (KVD; FVD 7.1e-6). Every setting passes
the CI gate against the default run and against ``leaderboards/ci/baseline/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SETTINGS = ("default", "threads1", "threads2", "deterministic", "no-onednn")


def _apply(setting: str) -> None:
    import torch

    if setting == "threads1":
        torch.set_num_threads(1)
    elif setting == "threads2":
        torch.set_num_threads(2)
    elif setting == "deterministic":
        torch.use_deterministic_algorithms(True)
    elif setting == "no-onednn":
        torch.backends.mkldnn.enabled = False


def worker(setting: str, num: int, out: Path) -> None:
    import torch

    from vbench_lite.pipeline import run
    from vbench_lite.spec import ProfileOptions, RunSpec

    _apply(setting)
    spec = RunSpec.for_method("baseline", split="validation", num_videos=num, profile=ProfileOptions(enabled=False))
    res = run(spec, out=out / "runs", progress=False)
    videos = torch.stack([res.videos[i] for i in sorted(res.videos)])
    torch.save(videos, out / "videos.pt")
    metrics = {k: {"value": m.value, "std": m.std, "fingerprint": m.fingerprint} for k, m in res.result.metrics.items()}
    (out / "metrics.json").write_text(json.dumps({"threads": torch.get_num_threads(), "metrics": metrics,
                                                  "run_dir": str(res.run_dir)}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-videos", type=int, default=32)
    ap.add_argument("--settings", default=",".join(SETTINGS[1:]))
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--dir", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.num_videos, Path(args.dir))
        return 0

    import torch

    settings = ["default", *[s for s in args.settings.split(",") if s and s != "default"]]
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        print(f"unknown setting(s) {unknown}; use {', '.join(SETTINGS)}", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="vbl-determinism-"))
    runs = {}
    for s in settings:
        d = root / s
        d.mkdir()
        env = {**os.environ, "VBENCH_LITE_CACHE": str(d / "cache")}  # a cold cache per setting
        subprocess.run([sys.executable, __file__, "--worker", s, "--dir", str(d), "--num-videos", str(args.num_videos)],
                       env=env, check=True)
        runs[s] = (torch.load(d / "videos.pt"), json.loads((d / "metrics.json").read_text()))
        print(f"{s}: done ({runs[s][1]['threads']} threads)", file=sys.stderr)

    from vbench_lite.leaderboard.check import compare
    from vbench_lite.results import RunResult

    ci_ref = Path(__file__).resolve().parents[1] / "leaderboards/ci/baseline/results.json"
    ci = RunResult.load(ci_ref) if ci_ref.is_file() and args.num_videos == 32 else None
    ref_videos, ref = runs["default"]
    names = sorted(ref["metrics"])
    report = {}
    for s in settings[1:]:
        videos, m = runs[s]
        diff = (videos.int() - ref_videos.int()).abs()
        changed = {}
        for k in names:
            a, b = ref["metrics"][k]["value"], m["metrics"][k]["value"]
            if a is None or b is None:
                continue
            changed[k] = 0.0 if a == b else (b - a) / abs(a) if a else float("inf")
        report[s] = {
            "threads": m["threads"],
            "videos_differing": int((diff.flatten(1).amax(1) > 0).sum()),
            "values_differing": int((diff > 0).sum()),
            "max_abs_grey_levels": int(diff.max()),
            "max_rel_metric_change": max((abs(v) for v in changed.values()), default=0.0),
            "metric_rel_change": changed,
            "fingerprints_equal": all(m["metrics"][k]["fingerprint"] == ref["metrics"][k]["fingerprint"] for k in names),
        }
    for s in settings:
        # The CI gate's quality rule against the default run and the committed reference (cost is
        # not profiled here: FLOPs and parameters are counted, not computed in float).
        result = RunResult.load(runs[s][1]["run_dir"])
        against = {"default": RunResult.load(runs["default"][1]["run_dir"])} | ({"ci_reference": ci} if ci else {})
        for what, base in against.items():
            rep = compare(result, base, latency="skip", check_cost=False)
            report.setdefault(s, {})[f"check_vs_{what}"] = {"exit_code": rep.exit_code, "verdict": rep.verdict,
                                                            "warnings": rep.warnings}
            print(f"{s:14s} check against {what}: exit {rep.exit_code} ({rep.verdict}); "
                  f"{len(rep.warnings)} fingerprint warning(s)")
    for s in settings[1:]:
        r, changed = report[s], report[s]["metric_rel_change"]
        worst = sorted(changed.items(), key=lambda kv: -abs(kv[1]))[:3]
        print(f"{s:14s} threads={r['threads']}: {r['videos_differing']}/{args.num_videos} videos differ "
              f"({r['values_differing']} values, max {r['max_abs_grey_levels']} grey levels); "
              f"max |rel metric change| {r['max_rel_metric_change']:.3g} "
              f"({', '.join(f'{k} {v:+.2g}' for k, v in worst)}); fingerprints equal: {r['fingerprints_equal']}")
    print(json.dumps({"num_videos": args.num_videos, "default_threads": ref["threads"], "settings": report}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
