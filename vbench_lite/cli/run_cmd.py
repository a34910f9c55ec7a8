"""``vbench-lite run --method NAME[:VARIANT]``: generate a split, score, profile, write results."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from tabulate import tabulate

from vbench_lite.cli import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from vbench_lite.spec import DEFAULT_REFERENCE_METHOD, ProfileOptions

    opt = ProfileOptions()
    p = sub.add_parser(
        "run",
        help="evaluate a method on a suite split",
        description="Generate the split's videos with a method, compute the metrics and the cost "
        "profile, and write <out>/<suite>/<method>[:<variant>]/<run_id>/.",
    )
    p.add_argument("--method", required=True, help="NAME or NAME:VARIANT (see `list methods`)")
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
    return p


def add_metric_options(p: argparse.ArgumentParser) -> None:
    """Options of the metrics' networks, shared by ``run`` and ``evaluate``."""
    p.add_argument("--detector", default=None, metavar="NAME",
                   help="FVD/KVD feature detector (see `list detectors`; default: shapes-video on the shapes "
                        "suite, i3d elsewhere); i3d is StyleGAN-V's TorchScript, given by --detector-weights")
    p.add_argument("--detector-weights", default=None, metavar="PATH",
                   help="local weights file of the detector (i3d: i3d_torchscript.pt)")
    p.add_argument("--reference-num", type=int, default=None, metavar="N",
                   help="reference videos FVD/KVD compare against (default: the suite's whole reference split)")
    p.add_argument("--clip-weights", default=None, metavar="PATH",
                   help="local open_clip weights file for ViT-B-32 (CLIPSIM, and VBench's background and "
                        "overall consistency with --vbench-protocol real)")
    p.add_argument("--vbench-protocol", default=None, choices=("embedded", "real"),
                   help="networks of the VBench dimensions: embedded (default; shapes-clip, Farneback) or real "
                        "(VBench's DINO ViT-B/16, CLIP ViT-B/32, RAFT; needs --dino-weights, --raft-weights and "
                        "--clip-weights)")
    p.add_argument("--dino-weights", default=None, metavar="PATH",
                   help="local DINO ViT-B/16 weights (VBench subject consistency; --vbench-protocol real)")
    p.add_argument("--raft-weights", default=None, metavar="PATH",
                   help="local torchvision raft_large weights (VBench dynamic degree; --vbench-protocol real)")
    p.add_argument("--amt-weights", default=None, metavar="PATH",
                   help="local AMT-S weights, VBench's amt-s.pth (motion smoothness; needs the vbench package: "
                        "pip install --no-deps vbench==0.1.5); without it motion smoothness uses Farneback")
    ref = p.add_mutually_exclusive_group()
    ref.add_argument("--reference", default=None, metavar="DIR",
                     help="a folder of real videos FVD/KVD compare against (instead of the suite's reference split)")
    ref.add_argument("--reference-stats", default=None, metavar="FILE",
                     help="reference statistics written by `stats --videos DIR --out FILE`, or a bare mean/covariance "
                          ".npz (mu, sigma) with --reference-stats-protocol")
    p.add_argument("--reference-frame-sampling", default=None, metavar="first|middle|stride:K",
                   help="how a clip is taken from each --reference video: its first N frames (StyleGAN-V's FVD, the "
                        "default), N frames from the middles of N segments (VBench), or every K-th frame")
    p.add_argument("--reference-stats-protocol", default=None, choices=("stylegan-v",),
                   help="the protocol of a bare mean/covariance --reference-stats file: stylegan-v = I3D features of "
                        "the first 16 frames, covariance divided by N")


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


def _weights_file(path: str, option: str) -> str:
    from pathlib import Path

    p = Path(path).expanduser()
    if not p.exists():
        raise UsageError(f"{option} {path}: no such file")
    if not p.is_file():
        raise UsageError(f"{option} {path} is not a file; give the weights file itself")
    return str(p)


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Metric options from the command line, each checked before any work."""
    opts: dict[str, Any] = {}
    if getattr(args, "detector", None):
        from vbench_lite.metrics.detectors.base import FeatureDetector
        from vbench_lite.registries import DETECTORS

        cls = DETECTORS.get(args.detector)  # unknown name -> did-you-mean
        if not (isinstance(cls, type) and issubclass(cls, FeatureDetector)):
            video = [n for n in DETECTORS.names()
                     if isinstance(c := DETECTORS.get(n), type) and issubclass(c, FeatureDetector)]
            raise UsageError(f"--detector {args.detector} is not a video feature detector for FVD/KVD; "
                             f"use one of {', '.join(video)}")
        opts["detector"] = args.detector
    if getattr(args, "detector_weights", None):
        opts["detector_weights"] = _weights_file(args.detector_weights, "--detector-weights")
    if getattr(args, "clip_weights", None):
        opts["clip_weights"] = _weights_file(args.clip_weights, "--clip-weights")
    opts.update(vbench_options_from_args(args))
    opts |= reference_options(args)
    if getattr(args, "reference_num", None) is not None:
        if args.reference_num < 2:
            raise UsageError(f"--reference-num must be at least 2, got {args.reference_num}")
        opts["reference_num"] = args.reference_num
    return opts


# VBench real-protocol weight options: (command-line option, metric option)
_REAL_WEIGHTS = (("--dino-weights", "dino_weights"), ("--raft-weights", "raft_weights"),
                 ("--clip-weights", "clip_weights"))


def vbench_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The VBench metric's protocol and weight options (``vbench_protocol``, ``dino_weights``,
    ``raft_weights``, ``amt_weights``); ``clip_weights`` is read by :func:`options_from_args`."""
    opts: dict[str, Any] = {}
    protocol = getattr(args, "vbench_protocol", None)
    for flag, key in _REAL_WEIGHTS[:2] + (("--amt-weights", "amt_weights"),):
        if getattr(args, key, None):
            opts[key] = _weights_file(getattr(args, key), flag)
    if protocol == "real":
        missing = [flag for flag, key in _REAL_WEIGHTS if not getattr(args, key, None)]
        if missing:
            raise UsageError(f"--vbench-protocol real needs {', '.join(missing)} PATH (VBench's DINO ViT-B/16, "
                             "RAFT and CLIP ViT-B/32 weight files; nothing is downloaded)")
    else:
        stray = [flag for flag, key in _REAL_WEIGHTS[:2] if key in opts]
        if stray:
            raise UsageError(f"{' and '.join(stray)} {'are' if len(stray) > 1 else 'is'} read by VBench's real "
                             "protocol only; add --vbench-protocol real")
    if protocol == "real":  # embedded is the metric's default: leave it out so cache keys stay as they were
        opts["vbench_protocol"] = protocol
    return opts


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


def reference_options(args: argparse.Namespace) -> dict[str, Any]:
    """The user's real reference set (``--reference DIR`` / ``--reference-stats FILE``), checked to exist."""
    from pathlib import Path

    from vbench_lite.metrics.reference_videos import frames_needed

    opts: dict[str, Any] = {}
    if getattr(args, "reference", None):
        d = Path(args.reference).expanduser()
        if not d.is_dir():
            raise UsageError(f"--reference {args.reference}: " + ("not a folder; give the folder of real videos"
                                                                 if d.exists() else "no such folder"))
        opts["reference_videos"] = str(d)
    if getattr(args, "reference_stats", None):
        f = Path(args.reference_stats).expanduser()
        if not f.is_file():
            raise UsageError(f"--reference-stats {args.reference_stats}: " + ("is a folder; give the .npz file"
                                                                             if f.exists() else "no such file"))
        opts["reference_stats"] = str(f)
    sampling = getattr(args, "reference_frame_sampling", None)
    if sampling is not None:
        if not opts:
            raise UsageError("--reference-frame-sampling needs --reference DIR or --reference-stats FILE")
        frames_needed(16, sampling)  # an unknown sampling is named here, before any work
        opts["reference_frame_sampling"] = sampling
    if getattr(args, "reference_stats_protocol", None):
        if "reference_stats" not in opts:
            raise UsageError("--reference-stats-protocol needs --reference-stats FILE")
        opts["reference_stats_protocol"] = args.reference_stats_protocol
    return opts


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


def main(args: argparse.Namespace) -> int:
    from vbench_lite.cli import require_device
    from vbench_lite.pipeline.runner import run
    from vbench_lite.registries import METHODS
    from vbench_lite.registry import split_name
    from vbench_lite.spec import DEFAULT_REFERENCE_METHOD, ProfileOptions, RunSpec

    name, variant = split_name(args.method)
    METHODS.entry(name)  # unknown method -> did-you-mean, before any work
    explicit = args.reference_method is not None
    reference = reference_method_arg(args.reference_method) if explicit else DEFAULT_REFERENCE_METHOD
    require_device(args.device)
    options = options_from_args(args)
    adapter = build_adapter(name, variant, args)
    # A method that fixes its own frames and size (a third-party pipeline) has no default reference
    # method: the baseline generates the shapes domain only.
    generation = adapter.generation_spec()
    if generation is not None and not explicit:
        reference = None
    spec = RunSpec(
        method=name, variant=adapter.variant, suite=args.suite, split=args.split, num_videos=args.num_videos,
        metrics=parse_metrics(args.metrics), device=args.device, batch_size=args.batch_size,
        reference_method=reference,
        **({"generation": generation} if generation is not None else {}),
        profile=ProfileOptions(enabled=not args.no_profile, latency=not args.no_latency,
                               repeats=args.latency_repeats, warmup=args.warmup),
    )
    out = run(spec, out=args.out, adapter=adapter, options=options, use_cache=not args.no_cache,
              progress=not args.json)
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
