"""``vbench-lite profile --method NAME[:VARIANT]``: FLOPs, parameters, latency, memory, utilisation.

Prints a table (or JSON with ``--json``) and writes ``<out>/profiles/<method>/profile.json``.
Prompts and seeds are the first videos of the shapes suite's eval split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tabulate import tabulate

from vbench_lite.cli import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from vbench_lite.spec import GenerationSpec, ProfileOptions

    gen, opt = GenerationSpec(), ProfileOptions()
    p = sub.add_parser("profile", help="cost profile of one method: FLOPs, parameters, latency, peak memory")
    p.add_argument("--method", required=True, metavar="NAME[:VARIANT]", help="registered method (see `list methods`)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--out", default="runs", type=Path, help="results root folder, as for `run` (default: runs)")
    p.add_argument("--json", action="store_true", help="print the profile as JSON instead of a table")
    p.add_argument("--batch-size", type=int, default=opt.batch_size, help=f"throughput batch (default {opt.batch_size})")
    p.add_argument("--warmup", type=int, default=opt.warmup, help="untimed runs before each latency measurement "
                   f"(default {opt.warmup}: the FLOP-counting run comes first and warms the method up)")
    p.add_argument("--repeats", type=int, default=opt.repeats,
                   help=f"timed runs per batch size, at least 2 (default {opt.repeats}; more on a quiet machine)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's setting)")
    p.add_argument("--frames", type=int, default=gen.frames, help=f"frames per video (default {gen.frames})")
    p.add_argument("--resolution", type=int, default=gen.resolution, help=f"frame size (default {gen.resolution})")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    p.add_argument("--no-breakdown", action="store_true", help="skip fvcore's per-module breakdown")
    p.add_argument("--reference", default=None, metavar="NAME[:VARIANT]",
                   help="pair the batch latency runs with this method's (e.g. baseline), interleaved in this "
                   "process, for a speedup with a 95%% interval (default: time the method alone; see also `compare`)")
    return p


def main(args: argparse.Namespace) -> int:
    import vbench_lite
    from vbench_lite.fsutil import atomic_write_json
    from vbench_lite.profile import profile_method
    from vbench_lite.spec import GenerationSpec, ProfileOptions, RunSpec

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    run = RunSpec.for_method(args.method, device=args.device)  # validates name and device
    ref_name = None if args.reference in (None, "none", run.method_id) else args.reference
    options = ProfileOptions(warmup=args.warmup, repeats=args.repeats, batch_size=args.batch_size, threads=args.threads,
                             reference=ref_name)
    gen_spec = GenerationSpec(frames=args.frames, resolution=args.resolution)
    items = vbench_lite.load_suite("shapes").items("eval", args.batch_size, 0)
    reference = vbench_lite.load_method(ref_name) if ref_name is not None else None  # unknown name: error first
    adapter = vbench_lite.load_method(args.method)
    adapter.load(run.device)
    if reference is not None:
        reference.load(run.device)
    profile = profile_method(
        adapter, gen_spec, options, [it.prompt for it in items], [it.seed for it in items],
        device=run.device, memory=not args.no_memory, breakdown=not args.no_breakdown,
        reference=reference, progress=not args.json,
    )
    path = args.out / "profiles" / run.method_id / "profile.json"
    atomic_write_json(path, profile)
    if args.json:
        print(json.dumps(profile, indent=2))
    else:
        print(render(profile))
        print(f"\nwritten: {path}")
    return 0


def _g(x: float) -> str:
    return f"{x / 1e9:,.3f} G"


def render(profile: dict[str, Any]) -> str:
    """The human-readable summary of a profile dict."""
    f, lat, p = profile["flops"], profile["latency"], profile["params"]
    thr, one = lat[f"batch{lat['throughput_batch']}"], lat["batch1"]
    rows: list[tuple[str, str]] = [
        ("method", profile["method"]),
        ("device / threads", f"{profile['device']} / {profile['threads']}"),
        ("FLOP per video", _g(f["per_video"])),
    ]
    rows += [(f"  stage {k}", _g(v)) for k, v in f["by_stage"].items()]
    if f["denoiser_calls"]:
        per_call = f["per_denoiser_call"]
        rows.append(("denoiser calls per video", str(f["denoiser_calls"])))
        label = f"FLOP per denoiser call @ batch {f['batch']}"
        rows.append((label, _g(per_call) if per_call is not None else "varies (see JSON)"))
    rows.append(("parameters (total / at inference)", f"{p['total']:,} / {p['at_inference']:,}"))
    for label, lt in ((f"latency s/video @ batch {thr['batch']}", thr), ("latency s/video @ batch 1", one)):
        flag = "  UNSTABLE" if lt["unstable"] else ""
        rows.append((label, f"{lt['seconds_per_video']:.4f} (IQR {100 * lt['relative_iqr']:.1f}%, n={lt['repeats']}){flag}"))
        rows += [(f"  stage {k} (s/batch)", f"{v:.4f}") for k, v in lt["stage_median_s"].items()]
    if profile.get("speedup"):
        from vbench_lite.cli.compare_cmd import speedup_text

        rows.append((f"speedup vs {profile['speedup']['reference']} (paired)", speedup_text(profile["speedup"])))
    mem = profile.get("memory")
    if mem:
        rows.append(("peak memory rise, 1 video", f"{mem['increase_bytes'] / 2**20:,.1f} MiB ({mem['source']})"))
    util = profile.get("utilisation")
    if util:
        rows.append(("denoiser utilisation", f"{100 * util['fraction']:.1f}% of {util['peak_flops_per_s'] / 1e9:,.1f} GFLOP/s matmul peak"))
    out = tabulate(rows, headers=("cost", "value"), disable_numparse=True)
    call = profile.get("denoiser_call")
    if call and "error" in call:
        out += f"\n\none denoiser call: fvcore breakdown failed ({call['error']})"
    elif call:
        total = call["dense_total"] or 1
        mods = [(k or "(denoiser)", f"{v / 1e6:,.2f} M", f"{v / total:.1%}")
                for k, v in call["by_module"].items() if k.count(".") < 1]
        shapes = ", ".join(str(s) for s in call["inputs"])
        out += f"\n\none denoiser call on inputs {shapes} (fvcore, MACs x 2):\n"
        out += tabulate(mods, headers=("module", "dense FLOP", "share"), disable_numparse=True)
        ops = ", ".join(f"{k} {v / 1e6:,.1f} M" for k, v in call["by_operator"].items())
        out += f"\nby operator: {ops}\nfvcore / torch agreement: {call['agreement']:.4f}"
    return out
