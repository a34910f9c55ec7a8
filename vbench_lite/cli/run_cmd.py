"""``vbench-lite run --method NAME[:VARIANT]``: generate a split, score, profile, write results.

``run --config FILE`` reads the run spec from a TOML or JSON run file (:mod:`vbench_lite.run_file`);
flags given beside it override the file's values.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from tabulate import tabulate

from vbench_lite.cli import UsageError
from vbench_lite.cli.metric_options import add_metric_options, metric_configs_from_args


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from vbench_lite.spec import DEFAULT_REFERENCE_METHOD, ProfileOptions

    opt = ProfileOptions()
    p = sub.add_parser(
        "run",
        help="evaluate a method on a suite split",
        description="Generate the split's videos with a method, compute the metrics and the cost "
        "profile, and write <out>/<suite>/<method>[:<variant>]/<run_id>/.",
    )
    p.add_argument("--config", default=None, metavar="FILE",
                   help="a run file (.toml or .json) with the run spec: method, split, metrics, profile, "
                        "metric_configs, ...; flags given beside it override it (README: Run files)")
    p.add_argument("--method", default=None, help="NAME or NAME:VARIANT (see `list methods`; required without --config)")
    p.add_argument("--model", default=None, metavar="DIR",
                   help="the local model folder of a method that takes one (diffusers: a pipeline folder written "
                        "by save_pretrained; the row is diffusers:<folder name>)")
    p.add_argument("--method-file", default=None, metavar="FILE",
                   help="a method file (TOML or JSON) naming the model folder and its settings as one leaderboard "
                        "row (diffusers: see the README section 'Your own model')")
    p.add_argument("--suite", default="shapes",
                   help="shapes (default) or prompts:FILE (a prompt list, one a line, or VBench's prompt JSON; "
                        "prompts:FILE?samples=N for N samples per prompt, default 5)")
    p.add_argument("--split", default="eval", choices=("eval", "validation"))
    p.add_argument("--num-videos", type=int, default=None, help="default: the whole split")
    p.add_argument("--metrics", default=None, help="comma-separated metric names (default: all registered)")
    p.add_argument("--no-profile", action="store_true", help="skip the cost profile")
    p.add_argument("--no-latency", action="store_true",
                   help="profile FLOPs, parameters and memory but skip the timings (CI on shared machines)")
    p.add_argument("--latency-repeats", type=int, default=opt.repeats,
                   help=f"measured latency runs (at least 2; default {opt.repeats})")
    p.add_argument("--warmup", type=int, default=opt.warmup, help=f"latency warm-up runs (default {opt.warmup})")
    p.add_argument("--reference-method", default=None, metavar="NAME[:VARIANT]",
                   help="the method fidelity compares with and the latency is paired with, loaded once "
                   f"(default {DEFAULT_REFERENCE_METHOD}, or none for a method that fixes its own frames and size, "
                   "--model/--method-file; 'none': no fidelity, the method timed alone)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--batch-size", type=int, default=16, help="canonical micro-batch size (never changes a result)")
    p.add_argument("--out", default="runs", help="results root folder (default: ./runs)")
    p.add_argument("--no-cache", action="store_true", help="recompute everything")
    add_metric_options(p)
    p.add_argument("--json", action="store_true", help="print results.json instead of a table")
    DEFAULTS.update({a.dest: a.default for a in p._actions})
    return p


DEFAULTS: dict[str, Any] = {}  # the parser's defaults: a flag equal to its default does not override --config


def parse_metrics(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise UsageError("--metrics is empty; give comma-separated names (see `vbench-lite list metrics`)")
    from vbench_lite.registries import METRICS

    for n in names:
        METRICS.entry(n)  # unknown name -> did-you-mean error
    return names


def reference_method_arg(text: str | None) -> str | None:
    """``--reference-method NAME[:VARIANT]`` checked against the registry ('none': no reference)."""
    from vbench_lite.registries import METHODS
    from vbench_lite.registry import split_name

    if text is None or text.lower() == "none":
        return None
    try:
        name, _ = split_name(text)
    except ValueError as exc:
        raise UsageError(f"--reference-method: {exc}") from None
    METHODS.entry(name)  # unknown name -> did-you-mean
    return text


def fmt(x: float | None) -> str:
    if x is None:
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.4g}"


def summary_rows(result: Any) -> list[tuple[str, str, str]]:
    rows = [(name, fmt(m.value) + (f" ± {fmt(m.std)}" if m.std is not None else ""), "↑" if m.higher_is_better else "↓")
            for name, m in result.metrics.items()]
    prof = result.profile
    if prof is None:
        return rows
    if prof.flops is not None:
        rows.append(("GFLOPs/video", fmt(prof.flops.total / 1e9), "↓"))
    if (lat := prof.throughput) is not None:
        rows.append((f"latency s/video (batch {lat.per})", fmt(lat.median_s_per_video), "↓"))
    if prof.speedup:  # the paired measurement against the reference (vbench_lite.profile.paired)
        from vbench_lite.cli.compare_cmd import speedup_text

        rows.append((f"speedup vs {prof.speedup['reference']} (paired)", speedup_text(prof.speedup), "↑"))
    return rows


def build_adapter(name: str, variant: str | None, args: argparse.Namespace) -> Any:
    """The method's adapter (not loaded); ``--model`` / ``--method-file`` go to a method that takes them."""
    import inspect

    from vbench_lite.registries import METHODS

    extra = {k: v for k, v in (("model", args.model), ("method_file", args.method_file)) if v is not None}
    if extra:
        params = inspect.signature(METHODS.get(name)).parameters
        flags = ", ".join("--" + k.replace("_", "-") for k in extra if k not in params)
        if flags:
            raise UsageError(f"method {name!r} takes no {flags} (the diffusers method does: --method diffusers)")
    return METHODS.build(name, variant=variant, **extra)


# spec fields the flags set: (flag dest, RunSpec field); beside --config, a flag overrides only when given
_SPEC_FLAGS = (("suite", "suite"), ("split", "split"), ("num_videos", "num_videos"), ("device", "device"),
               ("batch_size", "batch_size"))


def main(args: argparse.Namespace) -> int:
    import dataclasses
    from pathlib import Path

    from vbench_lite.cli import require_device
    from vbench_lite.pipeline.runner import run
    from vbench_lite.registries import METHODS
    from vbench_lite.registry import split_name
    from vbench_lite.run_file import read_run_file, spec_from_table
    from vbench_lite.spec import DEFAULT_REFERENCE_METHOD, ProfileOptions, RunSpec

    def given(dest: str) -> bool:
        return getattr(args, dest) != DEFAULTS.get(dest)

    if args.config is None and args.method is None:
        raise UsageError("give --method NAME[:VARIANT] or a run file with --config FILE")
    table = read_run_file(args.config) if args.config is not None else {}
    base = None
    if args.config is not None:
        base = spec_from_table(table, where=f"run file {args.config}", base_dir=Path(args.config).resolve().parent,
                               method=args.method)
    name, variant = split_name(args.method or base.method_id)  # type: ignore[union-attr]
    METHODS.entry(name)  # unknown method -> did-you-mean, before any work
    explicit = args.reference_method is not None or "reference_method" in table
    if args.reference_method is not None:
        reference = reference_method_arg(args.reference_method)
    elif base is not None:
        reference = reference_method_arg(base.reference_method) if base.reference_method else None
    else:
        reference = DEFAULT_REFERENCE_METHOD
    if base is None or given("device"):
        require_device(args.device)
    adapter = build_adapter(name, variant, args)
    # A method that fixes its own frames and size (a third-party pipeline) has no default reference
    # method: the baseline generates the shapes domain only.
    generation = adapter.generation_spec()
    if generation is not None and not explicit:
        reference = None
    if base is None:
        spec = RunSpec(
            method=name, variant=adapter.variant, suite=args.suite, split=args.split, num_videos=args.num_videos,
            metrics=parse_metrics(args.metrics), device=args.device, batch_size=args.batch_size,
            reference_method=reference,
            **({"generation": generation} if generation is not None else {}),
            profile=ProfileOptions(enabled=not args.no_profile, latency=not args.no_latency,
                                   repeats=args.latency_repeats, warmup=args.warmup),
            metric_configs=metric_configs_from_args(args),
        )
    else:
        changes: dict[str, Any] = {f: getattr(args, d) for d, f in _SPEC_FLAGS if given(d)}
        if args.metrics is not None:
            changes["metrics"] = parse_metrics(args.metrics)
        prof = {k: getattr(args, d) for d, k in (("latency_repeats", "repeats"), ("warmup", "warmup")) if given(d)}
        prof |= ({"enabled": False} if args.no_profile else {}) | ({"latency": False} if args.no_latency else {})
        if generation is not None:
            changes["generation"] = generation
        spec = dataclasses.replace(
            base, variant=adapter.variant, reference_method=reference,
            profile=dataclasses.replace(base.profile, **prof),
            metric_configs=metric_configs_from_args(args, dict(base.metric_configs)), **changes,
        )
        for n in spec.metrics:
            parse_metrics(n)  # an unknown metric in the file -> did-you-mean
    require_device(spec.device)
    out = run(spec, out=args.out, adapter=adapter, use_cache=not args.no_cache, progress=not args.json)
    if out.run_dir is None:  # a non-zero rank under torchrun
        return 0
    if args.json:
        print(json.dumps(out.result.to_dict(), indent=2))
        return 0
    r = out.result
    note = "" if r.eligible else "  (not eligible for the leaderboard: partial or validation split)"
    print(f"{r.method_id} on {r.suite}/{r.split}, {r.num_videos} videos{note}")
    print(tabulate(summary_rows(r), headers=("metric", "value", "better")))
    print(f"results: {out.run_dir}")
    return 0
