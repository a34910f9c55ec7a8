"""Evaluate a folder of existing videos (``vbench-lite evaluate --videos DIR``).

Prompts come from a JSON map of file name to prompt (``--prompts``), or, following VBench's
``custom_input`` convention, from file names that look like prompts: ``"a red circle moving
left-0.mp4"`` -> ``"a red circle moving left"`` (a trailing ``-<n>`` sample number is dropped).
Names that do not look like prompts (``0000.mp4``, ``clip_3.mp4``) are never taken as prompts: a
metric that needs prompts then asks for ``--prompts`` (CLIPSIM of a video against the text "0000"
is a silently wrong number, not a result).

Clips are read whole, or as ``--frames N`` frames sampled ``first`` (consecutive, as StyleGAN-V's
FVD), ``middle`` (VBench's ``get_frame_indices``) or ``stride:K`` (every K-th frame), all through
:func:`vbench_lite.video.frame_indices`. Every metric whose inputs are available runs; one the
clips cannot support (too few frames for its network) is skipped with the reason recorded in
``results.json`` (``skipped``), never scored 0; asking for it by name is an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import torch

from vbench_lite.env import capture_env
from vbench_lite.metrics.base import Metric, MetricConfig, MetricContext
from vbench_lite.pipeline.generation import video_sha256
from vbench_lite.pipeline.runner import RunOutput, resolve_metrics
from vbench_lite.pipeline.scoring import score
from vbench_lite.results import RunResult, SampleRow, write_samples
from vbench_lite.run_folder import RunFolder
from vbench_lite.spec import canonical_json, sha256_text
from vbench_lite.suites import build_suite
from vbench_lite.suites.base import VideoItem
from vbench_lite.video import list_videos, read_videos_parallel

logger = logging.getLogger(__name__)

# VBench's sampled-video names: "<prompt>-<n>.mp4"; a prompt has at least two words with letters.
PROMPT_FILE_NAME = re.compile(r"(?P<prompt>\S*[A-Za-z]\S*\s.*\S)-(?P<n>\d+)")
FRAME_SAMPLINGS = ("first", "middle", "stride:K")


def _shown(names: list[str], limit: int = 3) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def prompt_from_file_name(path: Path) -> str | None:
    """The prompt of a VBench-style ``PROMPT-N.mp4`` name, or None when the name is no prompt."""
    m = PROMPT_FILE_NAME.fullmatch(path.stem)
    return m.group("prompt") if m else None


def prompts_for(files: list[Path], prompts_file: str | Path | None) -> tuple[list[str] | None, str]:
    """One prompt per file and where they came from; ``(None, reason)`` when there are none."""
    if prompts_file is None:
        prompts = [prompt_from_file_name(f) for f in files]
        if all(p is not None for p in prompts):
            return [p for p in prompts if p is not None], "file names (VBench custom_input)"
        odd = [f.name for f, p in zip(files, prompts) if p is None]
        return None, (f"the file names ({_shown(odd)}) are not prompts in VBench's 'PROMPT-N.mp4' form; "
                      "give the prompts with --prompts FILE (JSON: file name -> prompt)")
    p = Path(prompts_file)
    if not p.exists():
        raise ValueError(f"prompts file not found: {p}")
    if not p.is_file():
        raise ValueError(f"--prompts {p} is a folder; give the JSON file mapping file name to prompt")
    try:
        mapping = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"prompts file {p} is not UTF-8 text; give a JSON file mapping file name to prompt") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"prompts file {p} is not valid JSON: {exc}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ValueError(f"prompts file {p} must be a JSON object mapping file name to prompt")
    missing = [f.name for f in files if f.name not in mapping and f.stem not in mapping]
    if missing:
        raise ValueError(f"prompts file {p} has no prompt for {len(missing)} video(s): {_shown(missing, 5)}")
    known = {f.name for f in files} | {f.stem for f in files}
    absent = [k for k in mapping if k not in known]
    if absent:
        raise ValueError(
            f"prompts file {p} names {len(absent)} video(s) that are not in the folder: {_shown(absent, 5)}; "
            "fix the file names or the prompts file"
        )
    empty = [f.name for f in files if not mapping.get(f.name, mapping.get(f.stem, "")).strip()]
    if empty:
        raise ValueError(f"prompts file {p} gives an empty prompt for {_shown(empty, 5)}")
    return [mapping.get(f.name, mapping.get(f.stem, "")) for f in files], str(p)


def check_frame_options(frames: int | None, sampling: str | None) -> str:
    """The frame sampling to read with (``all`` without ``--frames``); a bad pair is an error."""
    if frames is None:
        if sampling is not None:
            raise ValueError(f"--frame-sampling {sampling} needs --frames N (how many frames to take)")
        return "all"
    if frames < 1:
        raise ValueError(f"--frames must be at least 1, got {frames}")
    sampling = sampling or "first"
    stride = sampling.partition(":")[2] if sampling.startswith("stride:") else ""
    if sampling not in ("first", "middle") and not (stride.isdigit() and int(stride) >= 1):
        raise ValueError(f"unknown --frame-sampling {sampling!r}; use {', '.join(FRAME_SAMPLINGS)} (K >= 1)")
    return sampling


def select_metrics(names: tuple[str, ...] | None, available: set[str], no_prompts: str = "",
                   configs: dict[str, MetricConfig] | None = None) -> list[Metric]:
    """The requested metrics (all whose inputs are available when none are named).

    ``no_prompts`` is why there are no prompts: a metric needing them is then an error asking for
    ``--prompts``, whether it was named or is one of the defaults.
    """
    def prompts_error(m: Metric) -> ValueError:
        return ValueError(f"metric {m.name!r} needs prompts, and {no_prompts}, "
                          "or leave it out with --metrics")

    if names:
        metrics = resolve_metrics(names, configs)
        for m in metrics:
            if "prompts" in m.needs and "prompts" not in available and no_prompts:
                raise prompts_error(m)
            missing = set(m.needs) - available
            if missing:
                raise ValueError(
                    f"metric {m.name!r} needs {', '.join(sorted(missing))}, which evaluating a folder "
                    "of videos cannot provide; leave it out of --metrics"
                )
        return metrics
    possible = available | ({"prompts"} if no_prompts else set())
    chosen = [m for m in resolve_metrics(None, configs) if set(m.needs) <= possible]
    for m in chosen:
        if "prompts" in m.needs and "prompts" not in available:
            raise prompts_error(m)
    return chosen


def read_videos(files: list[Path], frames: int | None, sampling: str) -> dict[int, torch.Tensor]:
    """Every file as ``[T, C, H, W]`` (``frames`` of them, sampled as asked); one shape for all."""
    videos: dict[int, torch.Tensor] = {}
    # decoded once per file for every metric and dimension, by several threads
    for i, (f, v) in enumerate(zip(files, read_videos_parallel(files, num_frames=frames, sampling=sampling))):
        if videos and v.shape != videos[0].shape:
            hint = "" if frames else "; take the same number of frames from each with --frames N"
            raise ValueError(
                f"video {f} has shape {tuple(v.shape)} but {files[0].name} has {tuple(videos[0].shape)}; "
                f"all videos of one evaluation must share frames and resolution{hint}"
            )
        videos[i] = v
    return videos


def evaluate_folder(
    videos_dir: str | Path,
    *,
    prompts_file: str | Path | None = None,
    metrics: tuple[str, ...] | None = None,
    suite: str | None = "shapes",
    name: str = "external",
    out: str | Path | None = None,
    device: str = "cpu",
    batch_size: int = 16,
    metric_configs: dict[str, MetricConfig] | None = None,
    progress: bool = True,
    frames: int | None = None,
    frame_sampling: str | None = None,
) -> RunOutput:
    files = list_videos(videos_dir)
    sampling = check_frame_options(frames, frame_sampling)
    prompts, prompt_source = prompts_for(files, prompts_file)
    configs = dict(metric_configs or {})
    has_reference = any(getattr(c, "reference_videos", None) or getattr(c, "reference_stats", None)
                        for c in configs.values()) or bool(suite)
    available = ({"prompts"} if prompts is not None else set()) | ({"reference"} if has_reference else set())
    chosen = select_metrics(metrics, available, no_prompts="" if prompts is not None else prompt_source,
                            configs=configs)
    suite_obj = build_suite(suite) if suite else None
    spec: dict[str, Any] = {
        "videos": str(Path(videos_dir).resolve()),
        "prompts": prompt_source if prompts is not None else None,
        "metrics": [m.name for m in chosen],
        "suite": suite,
        "frame_sampling": sampling,
    }
    if configs:  # recorded (and hashed) when given, so runs without settings keep their spec's form
        spec["metric_configs"] = {n: c.to_dict() for n, c in sorted(configs.items())}
    # an unusable --out or --name fails here, before any video is read
    folder = RunFolder(out, suite or "external", name, sha256_text(canonical_json(spec))) if out is not None else None
    run_dir = None
    try:
        videos = read_videos(files, frames, sampling)
        texts = prompts if prompts is not None else [""] * len(files)
        # seed -1: the seed of an external video is unknown
        items = [VideoItem(index=i, prompt=p, seed=-1) for i, p in enumerate(texts)]
        ctx = MetricContext(suite=suite_obj, device=device, batch_size=batch_size)
        skipped: dict[str, str] = {}
        results, scores = score(chosen, videos, items, ctx, progress=progress,
                                skipped=None if metrics else skipped)
        spec |= {"frames": int(videos[0].shape[0]), "resolution": list(videos[0].shape[-2:])}
        spec_hash = sha256_text(canonical_json(spec))
        hashes = [video_sha256(videos[i]) for i in range(len(files))]
        result = RunResult(
            method=name, variant=None, suite=suite or "external", split="external",
            num_videos=len(files), eligible=False, spec=spec, spec_hash=spec_hash,
            method_info={"source": "external videos"}, metrics=results, profile=None,
            env=capture_env(device), created=folder.created if folder is not None else "",
            videos_sha256=hashlib.sha256("".join(hashes).encode()).hexdigest(), skipped=skipped,
        )
        rows = [
            SampleRow(index=i, prompt=texts[i], seed=-1, scores=scores[i], path=str(files[i].resolve()),
                      sha256=hashes[i])
            for i in range(len(files))
        ]
        if folder is not None:
            write_samples(folder.staging, rows)
            result.run_id = folder.reserve()
            result.save(folder.staging)
            run_dir = folder.publish()
    except BaseException:  # an error, Ctrl-C or SIGTERM: no half-written run folder
        if folder is not None and run_dir is None:
            folder.discard()
        raise
    return RunOutput(result=result, samples=rows, videos=videos, run_dir=run_dir)
