"""Metric settings from the command line (``run`` and ``evaluate``): the flags of the metrics'
networks, checked before any work, become the typed configs the metrics declare
(``Metric.config_class``), merged over a run file's (``run --config FILE``)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from vbench_lite.cli import UsageError


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


def _weights_file(path: str, option: str) -> str:
    from pathlib import Path

    p = Path(path).expanduser()
    if not p.exists():
        raise UsageError(f"{option} {path}: no such file")
    if not p.is_file():
        raise UsageError(f"{option} {path} is not a file; give the weights file itself")
    return str(p)


def _replace(configs: dict[str, Any], name: str, **changes: Any) -> None:
    """Set ``changes`` on metric ``name``'s config (its defaults when it has none yet)."""
    from vbench_lite.registries import METRICS

    if not changes:
        return
    current = configs.get(name) or METRICS.get(name).config_class()
    try:
        configs[name] = dataclasses.replace(current, **changes)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"metric {name}: {exc}") from None


def metric_configs_from_args(args: argparse.Namespace, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{metric name: config}``: ``base`` (a run file's settings) with the flags given on top.

    One flag may set several metrics' configs, as one network serves them: ``--detector``,
    ``--detector-weights`` and ``--reference-num`` set FVD's and KVD's; ``--clip-weights`` CLIPSIM's,
    CLIPScore's and VBench's; ``--vbench-protocol`` and the DINO/RAFT/AMT weights VBench's.
    """
    configs: dict[str, Any] = dict(base or {})
    detector: dict[str, Any] = {}
    if getattr(args, "detector", None):
        from vbench_lite.registries import CLIP_BACKBONES, DETECTORS

        if args.detector not in DETECTORS and args.detector in CLIP_BACKBONES:
            raise UsageError(f"--detector {args.detector} is a CLIP backbone, not a video feature detector for "
                             f"FVD/KVD; use one of {', '.join(DETECTORS.names())}")
        DETECTORS.get(args.detector)  # unknown name -> did-you-mean; a registered one is a FeatureDetector
        detector["detector"] = args.detector
    if getattr(args, "detector_weights", None):
        detector["detector_weights"] = _weights_file(args.detector_weights, "--detector-weights")
    if getattr(args, "reference_num", None) is not None:
        if args.reference_num < 2:
            raise UsageError(f"--reference-num must be at least 2, got {args.reference_num}")
        detector["reference_num"] = args.reference_num
    detector |= reference_options(args)
    for name in ("fvd", "kvd"):
        _replace(configs, name, **detector)
    clip = {}
    if getattr(args, "clip_weights", None):
        clip["clip_weights"] = _weights_file(args.clip_weights, "--clip-weights")
    for name in ("clipsim", "clipscore"):
        _replace(configs, name, **clip)
    _replace(configs, "vbench", **clip, **_vbench_changes(args, configs.get("vbench")))
    return configs


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



# VBench real-protocol weight options: (command-line option, config field)
_REAL_WEIGHTS = (("--dino-weights", "dino_weights"), ("--raft-weights", "raft_weights"),
                 ("--clip-weights", "clip_weights"))


def _vbench_changes(args: argparse.Namespace, base: Any) -> dict[str, Any]:
    """The VBench config's protocol and weight files from the flags (``--clip-weights`` is set by
    the caller), checked together with what ``base`` (a run file's VBench settings) already says."""
    changes: dict[str, Any] = {}
    protocol = getattr(args, "vbench_protocol", None) or getattr(base, "protocol", None)
    for flag, key in _REAL_WEIGHTS[:2] + (("--amt-weights", "amt_weights"),):
        if getattr(args, key, None):
            changes[key] = _weights_file(getattr(args, key), flag)
    if protocol == "real":
        missing = [flag for flag, key in _REAL_WEIGHTS if not (getattr(args, key, None) or getattr(base, key, None))]
        if missing:
            raise UsageError(f"--vbench-protocol real needs {', '.join(missing)} PATH (VBench's DINO ViT-B/16, "
                             "RAFT and CLIP ViT-B/32 weight files; nothing is downloaded)")
        changes["protocol"] = protocol
    else:
        stray = [flag for flag, key in _REAL_WEIGHTS[:2] if key in changes]
        if stray:
            raise UsageError(f"{' and '.join(stray)} {'are' if len(stray) > 1 else 'is'} read by VBench's real "
                             "protocol only; add --vbench-protocol real")
    return changes
