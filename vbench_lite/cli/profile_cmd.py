"""``vbench-lite profile --method NAME[:VARIANT]``: FLOPs, parameters, latency, memory, utilisation.

Prints a table (or JSON with ``--json``) and writes ``<out>/profiles/<method>/profile.json``.
Prompts and seeds are the first videos of the shapes suite's eval split.

With ``--architecture NAME`` the method's sampling schedule is projected onto a real video model
built on the meta device from a shipped configuration (:mod:`vbench_lite.profile.real_scale`):
FLOPs per video by stage and per call, parameters, the attention / matmul / convolution split, and
the FLOP ratio against the ``--reference`` method's schedule on the same model; it writes
``<out>/profiles/<method>/real_scale/<architecture>.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from vbench_lite.cli import UsageError, require_device

if TYPE_CHECKING:
    from vbench_lite.cost import CostProfile


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
    p.add_argument("--frames", type=int, default=None,
                   help=f"frames per video (default {gen.frames}; with --architecture: the pipeline's default)")
    p.add_argument("--resolution", type=_resolution, default=None, metavar="N|HxW",
                   help=f"frame size (default {gen.resolution}; with --architecture: HxW, default the pipeline's)")
    p.add_argument("--architecture", default=None, metavar="NAME",
                   help="project the method's schedule onto a real model built on the meta device "
                   "(no weights read); shipped: " + ", ".join(_architectures()))
    p.add_argument("--steps", type=int, default=None,
                   help="with --architecture: rescale the schedule to this many steps, stage shares kept")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    p.add_argument("--no-breakdown", action="store_true", help="skip fvcore's per-module breakdown")
    p.add_argument("--reference-method", "--reference", dest="reference", default=None, metavar="NAME[:VARIANT]",
                   help="pair the batch latency runs with this method's (e.g. baseline), interleaved in this "
                   "process, for a speedup with a 95%% interval (default: time the method alone; see also `compare`); "
                   "with --architecture: the method whose schedule the FLOP ratio refers to (default: the run "
                   "spec's default reference method)")
    return p


def _architectures() -> list[str]:
    from vbench_lite.profile.real_scale.architecture import list_architectures

    return list_architectures()


def _resolution(text: str) -> tuple[int, int]:
    """``"480x832"`` -> (480, 832); ``"32"`` -> (32, 32)."""
    parts = text.lower().split("x")
    try:
        h, w = (int(parts[0]), int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a resolution; write N or HxW, e.g. 480x832") from None
    if len(parts) > 2 or h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a resolution; write N or HxW, e.g. 480x832")
    return h, w


def main(args: argparse.Namespace) -> int:
    if args.architecture is not None:
        return _main_real_scale(args)
    import vbench_lite
    from vbench_lite.profile import profile_method
    from vbench_lite.spec import GenerationSpec, ProfileOptions, RunSpec

    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.steps is not None:
        raise UsageError("--steps applies to --architecture projections only")
    gen = GenerationSpec()
    frames = gen.frames if args.frames is None else args.frames
    resolution = gen.resolution
    if args.resolution is not None:
        h, w = args.resolution
        if h != w:
            raise UsageError(f"the shapes suite's frames are square; got --resolution {h}x{w}")
        resolution = h
    require_device(args.device)
    run = RunSpec.for_method(args.method, device=args.device)  # validates name and device
    ref_name = None if args.reference in (None, "none", run.method_id) else args.reference
    options = ProfileOptions(warmup=args.warmup, repeats=args.repeats, batch_size=args.batch_size, threads=args.threads)
    gen_spec = GenerationSpec(frames=frames, resolution=resolution)
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
    assert profile is not None  # options.enabled is the default True
    return _write_and_show(args.out / "profiles" / run.method_id / "profile.json", profile.to_dict(),
                           lambda _d: render(profile), args.json)


def _write_and_show(path: Path, profile: dict[str, Any], render_fn: Any, as_json: bool) -> int:
    from vbench_lite.fsutil import atomic_write_json

    atomic_write_json(path, profile)
    if as_json:
        print(json.dumps(profile, indent=2))
    else:
        print(render_fn(profile))
        print(f"\nwritten: {path}")
    return 0


def _g(x: float) -> str:
    return f"{x / 1e9:,.3f} G"


def render(profile: CostProfile) -> str:
    """The human-readable summary of a cost profile."""
    f, p = profile.flops, profile.params
    assert f is not None and p is not None
    rows: list[tuple[str, str]] = [
        ("method", profile.method),
        ("device / threads", f"{profile.device} / {profile.threads}"),
        ("FLOP per video", _g(f.total)),
    ]
    rows += [(f"  stage {k}", _g(v)) for k, v in f.by_stage.items()]
    if f.denoiser_calls:
        per_call = f.per_denoiser_call
        rows.append(("denoiser calls per video", str(f.denoiser_calls)))
        label = f"FLOP per denoiser call @ batch {f.batch}"
        rows.append((label, _g(per_call) if per_call is not None else "varies (see JSON)"))
    inference = f"{p.at_inference:,}" if p.at_inference is not None else "–"
    rows.append(("parameters (total / at inference)", f"{p.total:,} / {inference}"))
    for lt in profile.latency:
        flag = "  UNSTABLE" if lt.unstable else ""
        rows.append((f"latency s/video @ batch {lt.per}",
                     f"{lt.median_s_per_video:.4f} (IQR {100 * lt.relative_iqr:.1f}%, n={lt.repeats}){flag}"))
        rows += [(f"  stage {k} (s/batch)", f"{v:.4f}") for k, v in lt.stage_median_s.items()]
    if profile.speedup:
        from vbench_lite.cli.compare_cmd import speedup_text

        rows.append((f"speedup vs {profile.speedup['reference']} (paired)", speedup_text(profile.speedup)))
    mem = profile.memory
    if mem:
        rows.append(("peak memory rise, 1 video", f"{mem['increase_bytes'] / 2**20:,.1f} MiB ({mem['source']})"))
    util = profile.utilisation
    if util:
        rows.append(("denoiser utilisation", f"{100 * util['fraction']:.1f}% of {util['peak_flops_per_s'] / 1e9:,.1f} GFLOP/s matmul peak"))
    out = tabulate(rows, headers=("cost", "value"), disable_numparse=True)
    call = profile.denoiser_call
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


def _main_real_scale(args: argparse.Namespace) -> int:
    import vbench_lite
    from vbench_lite.profile.real_scale import load_architecture, method_schedule, project
    from vbench_lite.spec import RunSpec

    arch = load_architecture(args.architecture)  # unknown name: ValueError listing the shipped ones
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    h, w = args.resolution or (None, None)
    schedules = {}
    from vbench_lite.spec import DEFAULT_REFERENCE_METHOD

    reference = args.reference or DEFAULT_REFERENCE_METHOD
    for name in dict.fromkeys((args.method, reference)):
        RunSpec.for_method(name)  # validates the name
        adapter = vbench_lite.load_method(name)
        adapter.load("cpu")  # describe() reads the loaded sampler settings; nothing runs
        sched = method_schedule(adapter)
        schedules[name] = sched.with_steps(args.steps) if args.steps else sched
    profile = project(arch, schedules[args.method], args.frames, h, w)
    ref = project(arch, schedules[reference], profile.frames, profile.height, profile.width)
    out = {"method": args.method, "reference": reference, **profile.to_dict(),
           "reference_flops_per_video": ref.total, "flop_ratio_reference_over_method": ref.total / profile.total}
    path = args.out / "profiles" / RunSpec.for_method(args.method).method_id / "real_scale" / f"{arch.name}.json"
    return _write_and_show(path, out, render_real_scale, args.json)


def _t(x: float) -> str:
    return f"{x / 1e12:,.2f} T"


def render_real_scale(p: dict[str, Any]) -> str:
    """The human-readable summary of a real-scale projection."""
    sched, split, total = p["schedule"], p["split"], p["flops_per_video"]
    rows: list[tuple[str, str]] = [
        ("method / architecture", f"{p['method']} on {p['architecture']} (meta device, no weights)"),
        ("video", f"{p['frames']} frames at {p['height']}x{p['width']}"),
        ("schedule", f"{sched['steps']} steps, {'CFG' if sched['cfg'] else 'no CFG'}, NFE {sched['nfe']}, "
                     f"{len(sched['stages'])} stage(s)"),
        ("FLOP per video", _t(total)),
    ]
    rows += [(f"  stage {k}", f"{_t(v)} ({v / total:.1%})") for k, v in p["by_stage"].items()]
    rows += [(f"  {k}", f"{_t(v)} ({v / total:.1%})") for k, v in split.items()]
    for part in p["parts"]:
        grid = part.get("latent_grid")
        where = f" on latent {grid['channels']}x{grid['frames']}x{grid['height']}x{grid['width']}" if grid else ""
        rows.append((f"{part['part']}{where}", f"{part['calls']} calls x {_t(part['per_call']['total'])} "
                     f"(attention {part['per_call']['attention'] / max(part['per_call']['total'], 1):.0%})"))
    rows += [(f"parameters {k}", f"{v:,}") for k, v in p["params"].items()]
    rows.append((f"FLOP ratio {p['reference']} / {p['method']}", f"{p['flop_ratio_reference_over_method']:.3f}x "
                 f"({_t(p['reference_flops_per_video'])} for {p['reference']})"))
    return tabulate(rows, headers=("real-scale cost (FLOP = 2 x MAC)", "value"), disable_numparse=True)
