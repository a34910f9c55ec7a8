"""Evaluate a folder of existing videos (``vbench-lite evaluate --videos DIR``).

Prompts come from a JSON map of file name to prompt, or, following VBench's ``custom_input``
convention, from the file name itself (``"a red circle moving left-0.mp4"`` -> the prompt
``"a red circle moving left"``: a trailing ``-<n>`` sample number is dropped). Every metric whose
inputs are available runs; asking for one whose inputs are missing is an error naming them.
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
from vbench_lite.metrics.base import Metric, MetricContext
from vbench_lite.pipeline.generation import video_sha256
from vbench_lite.pipeline.runner import RunOutput, resolve_metrics
from vbench_lite.pipeline.scoring import score
from vbench_lite.registries import METRICS, SUITES
from vbench_lite.results import RunResult, SampleRow, create_run_dir, new_run_id, run_dir_for, write_samples
from vbench_lite.spec import canonical_json, sha256_text
from vbench_lite.suites.base import VideoItem
from vbench_lite.video import list_videos, read_video

logger = logging.getLogger(__name__)

_SAMPLE_SUFFIX = re.compile(r"-\d+$")


def prompts_for(files: list[Path], prompts_file: str | Path | None) -> tuple[list[str], str]:
    """One prompt per file, and where the prompts came from."""
    if prompts_file is None:
        return [_SAMPLE_SUFFIX.sub("", f.stem) for f in files], "file names (VBench custom_input)"
    p = Path(prompts_file)
    try:
        mapping = json.loads(p.read_text())
    except FileNotFoundError:
        raise ValueError(f"prompts file not found: {p}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"prompts file {p} is not valid JSON: {exc}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ValueError(f"prompts file {p} must be a JSON object mapping file name to prompt")
    missing = [f.name for f in files if f.name not in mapping and f.stem not in mapping]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"prompts file {p} has no prompt for {len(missing)} video(s): {shown}")
    return [mapping.get(f.name, mapping.get(f.stem, "")) for f in files], str(p)


def select_metrics(names: tuple[str, ...] | None, available: set[str]) -> list[Metric]:
    """The requested metrics (all whose inputs are available when none are named)."""
    if names:
        metrics = resolve_metrics(names)
        for m in metrics:
            missing = set(m.needs) - available
            if missing:
                raise ValueError(
                    f"metric {m.name!r} needs {', '.join(sorted(missing))}, which evaluating a folder "
                    "of videos cannot provide; leave it out of --metrics"
                )
        return metrics
    chosen = [METRICS.build(n) for n in METRICS.names()]
    return [m for m in chosen if set(m.needs) <= available]


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
    options: dict[str, Any] | None = None,
    progress: bool = True,
) -> RunOutput:
    files = list_videos(videos_dir)
    prompts, prompt_source = prompts_for(files, prompts_file)
    videos: dict[int, torch.Tensor] = {}
    for i, f in enumerate(files):
        v = read_video(f)
        if videos and v.shape != videos[0].shape:
            raise ValueError(
                f"video {f} has shape {tuple(v.shape)} but {files[0].name} has {tuple(videos[0].shape)}; "
                "all videos of one evaluation must share frames and resolution"
            )
        videos[i] = v
    # seed -1: the seed of an external video is unknown
    items = [VideoItem(index=i, prompt=p, seed=-1) for i, p in enumerate(prompts)]
    available = {"prompts"} | ({"reference"} if suite else set())
    chosen = select_metrics(metrics, available)
    ctx = MetricContext(
        suite=SUITES.build(suite) if suite else None, device=device, batch_size=batch_size,
        options=dict(options or {}),
    )
    results, scores = score(chosen, videos, items, ctx, progress=progress)
    spec = {
        "videos": str(Path(videos_dir).resolve()),
        "prompts": prompt_source,
        "metrics": [m.name for m in chosen],
        "suite": suite,
        "frames": int(videos[0].shape[0]),
        "resolution": list(videos[0].shape[-2:]),
    }
    spec_hash = sha256_text(canonical_json(spec))
    hashes = [video_sha256(videos[i]) for i in range(len(files))]
    run_dir = None
    if out is not None:
        run_dir = create_run_dir(run_dir_for(out, suite or "external", name, new_run_id(spec_hash)))
    result = RunResult(
        method=name, variant=None, suite=suite or "external", split="external",
        num_videos=len(files), eligible=False, spec=spec, spec_hash=spec_hash,
        method_info={"source": "external videos"}, metrics=results, profile=None,
        env=capture_env(device), run_id=run_dir.name if run_dir else "",
        created=run_dir.name[:15] if run_dir else "",
        videos_sha256=hashlib.sha256("".join(hashes).encode()).hexdigest(),
    )
    rows = [
        SampleRow(index=i, prompt=prompts[i], seed=-1, scores=scores[i], path=str(files[i].resolve()), sha256=hashes[i])
        for i in range(len(files))
    ]
    if run_dir is not None:
        write_samples(run_dir, rows)
        result.save(run_dir)
    return RunOutput(result=result, samples=rows, videos=videos, run_dir=run_dir)
