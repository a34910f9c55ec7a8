"""The page's samples: the same eval prompts and seeds for every method, side by side, looping.

Which prompts is fixed by the suite alone (:func:`preview_items`: a greedy cover of the attribute
values of the first two canonical micro-batches of the split: colours, shapes, directions, speeds,
relations, backgrounds), so every method and every re-render shows the same ones. The HTML section
(:func:`render_section`) is derived from the results and the suite only; the previews themselves
(animated GIFs under ``<out>/samples/``, :func:`write_previews`) are generated videos and are never
committed: ``leaderboard --with-videos`` writes them locally, from each run's own ``videos/`` folder
when it is there (checked against ``samples.jsonl``'s SHA-256), else by regenerating the preview
micro-batches with the method's recorded weights (refused when the installed weights differ).
"""

from __future__ import annotations

import html
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from vbench_lite.fsutil import atomic_write_text
from vbench_lite.leaderboard.table import Leaderboard, Row, common_value
from vbench_lite.suites.base import Suite, VideoItem

log = logging.getLogger(__name__)

PREVIEW_COUNT = 8
PREVIEW_POOL = 32  # the first two canonical micro-batches of 16: a regeneration reuses the run's cache
SAMPLES_DIR = "samples"
REAL = "real"  # the suite's own render of each prompt, the first column
_SKIP_ATTRIBUTES = {"caption", "suite_version"}


def preview_items(items: list[VideoItem], n: int = PREVIEW_COUNT) -> list[VideoItem]:
    """``n`` items covering the most attribute values: each pick adds the most (key, value) pairs
    not yet shown (ties: lowest index); returned in index order. Deterministic in the items."""
    def values(it: VideoItem) -> set[tuple[str, str]]:
        return {(k, str(v)) for k, v in it.attributes.items()
                if k not in _SKIP_ATTRIBUTES and isinstance(v, (str, int)) and not isinstance(v, bool)}

    seen: set[tuple[str, str]] = set()
    chosen: list[VideoItem] = []
    pool = list(items)
    while pool and len(chosen) < n:
        best = max(pool, key=lambda it: (len(values(it) - seen), -it.index))
        chosen.append(best)
        seen |= values(best)
        pool.remove(best)
    return sorted(chosen, key=lambda it: it.index)


def slug(method_id: str) -> str:
    """A folder name that is also a relative URL (``tpdiff:no-align`` would read as a URL scheme)."""
    return method_id.replace(":", "_").replace("/", "_")


def image_path(method_id: str, index: int) -> str:
    return f"{SAMPLES_DIR}/{slug(method_id)}/{index:04d}.gif"


@dataclass(frozen=True)
class SampleGrid:
    """What the samples section shows: prompts (rows) by methods (columns), the real render first."""

    suite: Suite
    split: str
    pool: list[VideoItem]  # the items whose micro-batches a regeneration runs
    items: list[VideoItem]  # the previews, a subset of pool
    methods: list[str]
    fps: int


def sample_grid(lb: Leaderboard) -> SampleGrid | None:
    """The grid for ``lb``, or ``None`` (with the reason logged) when the rows share no prompts."""
    from vbench_lite.registries import SUITES

    results = [r.run.result for r in lb.rows]
    split = common_value([r.split for r in results])
    offset = common_value([r.spec.get("seed_offset", 0) for r in results])
    gen = common_value([r.spec.get("generation") for r in results])
    if split is None or offset is None or not isinstance(gen, dict):
        log.info("no samples section: the rows differ in split, seed offset or generation settings")
        return None
    try:
        suite = SUITES.build(lb.suite)
        pool = suite.items(split, PREVIEW_POOL, offset)
    except (KeyError, ValueError, TypeError) as exc:  # an unregistered suite, a split it lacks
        log.info("no samples section: %s", exc)
        return None
    items = preview_items(pool)
    return SampleGrid(suite, split, pool, items, [r.method_id for r in lb.rows], int(gen.get("fps", 8)))


def render_section(grid: SampleGrid) -> str:
    """The HTML of the samples section (relative image paths; a preview not written here shows as
    "not rendered" instead of a broken image)."""
    e = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    absent = ("this.replaceWith(Object.assign(document.createElement('span'),"
              "{className:'absent',textContent:'not rendered'}))")
    cols = [REAL] + grid.methods
    head = "".join(f"<th>{e('real (suite render)' if c == REAL else c)}</th>" for c in cols)
    body = []
    for it in grid.items:
        imgs = "".join(
            f'<td><img src="{e(image_path(c, it.index))}" alt="{e(c)}: {e(it.prompt)}" '
            f'data-method="{e(c)}" data-index="{it.index}" onerror="{absent}"></td>' for c in cols
        )
        body.append(f'<tr class="video">{imgs}</tr>')
        body.append(f'<tr class="prompt"><td colspan="{len(cols)}">#{it.index} (seed {it.seed}): '
                    f"{e(it.prompt)}</td></tr>")
    return (
        "<h2>Samples</h2>\n"
        f"<p>The same {len(grid.items)} {e(grid.split)} prompts and seeds for every method (chosen by the suite "
        "to span colours, shapes, directions, speeds and two-object relations), looping at "
        f"{grid.fps} fps, shown at 3× with nearest-neighbour pixels. The images are written next to this "
        "page by <code>python -m vbench_lite leaderboard --with-videos</code> from each run's videos "
        "(or regenerated from the method's recorded weights); generated videos are not committed, so a "
        "fresh checkout shows “not rendered” until then.</p>\n"
        f'<table class="samples">\n<thead><tr>{head}</tr></thead>\n<tbody>\n' + "\n".join(body)
        + "\n</tbody>\n</table>\n"
    )


# --- writing the previews ------------------------------------------------------------------------


def _from_run_folder(row: Row, items: list[VideoItem]) -> dict[int, torch.Tensor] | None:
    """The run's own videos, each checked against its samples.jsonl SHA-256; None when absent."""
    from vbench_lite.pipeline.generation import video_sha256
    from vbench_lite.results import read_samples
    from vbench_lite.video import VideoReadError, read_video

    run_dir = row.run.path.parent
    if not (run_dir / "samples.jsonl").is_file():
        return None
    by_index = {s.index: s for s in read_samples(run_dir)}
    out = {}
    for it in items:
        s = by_index.get(it.index)
        if s is None or not s.path or (s.prompt, s.seed) != (it.prompt, it.seed):
            return None
        try:
            video = read_video(run_dir / s.path)
        except VideoReadError as exc:
            log.warning("%s: %s; regenerating its previews", row.method_id, exc)
            return None
        if s.sha256 and video_sha256(video) != s.sha256:
            log.warning("%s: %s differs from the SHA-256 in samples.jsonl; regenerating its previews",
                        row.method_id, s.path)
            return None
        out[it.index] = video
    return out


def _regenerate(row: Row, grid: SampleGrid) -> dict[int, torch.Tensor] | None:
    """The preview micro-batches again, through the method registry, with the recorded settings.

    Refused (None, logged) when the installed method's weights are not the ones of the run.
    """
    from vbench_lite.pipeline.generation import generate_videos
    from vbench_lite.registries import METHODS
    from vbench_lite.spec import GenerationSpec

    run = row.run.result
    try:
        adapter = METHODS.build(run.method, variant=run.variant)
        adapter.load("cpu")
        info = adapter.describe()
    except Exception as exc:  # an uninstalled plugin, missing weights: no previews for this row
        log.warning("%s: cannot load the method to regenerate its previews: %s", row.method_id, exc)
        return None
    recorded = run.method_info.get("weights_sha256")
    if recorded is None or info.get("weights_sha256") != recorded:
        log.warning("%s: installed weights %s are not the run's %s; no previews for it",
                    row.method_id, str(info.get("weights_sha256"))[:12], str(recorded)[:12])
        return None
    gen = GenerationSpec(**run.spec["generation"])
    videos = generate_videos(adapter, grid.pool, gen, batch_size=int(run.spec.get("batch_size", 16)),
                             info=info, progress=False)
    return {it.index: videos[it.index] for it in grid.items}


def write_previews(lb: Leaderboard, grid: SampleGrid, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``<out>/samples/<method>/<index>.gif`` for every row and preview prompt, and the real
    render of each prompt; ``samples/sources.json`` says where each method's videos came from."""
    from vbench_lite.video import write_video

    out = Path(out)
    written: list[Path] = []
    gen = common_value([r.run.result.spec.get("generation") for r in lb.rows]) or {}
    try:
        real = grid.suite.render(grid.items, resolution=gen.get("resolution"), frames=gen.get("frames"))
    except TypeError as exc:  # a suite without real videos
        log.info("no real column: %s", exc)
    else:
        for it, video in zip(grid.items, real):
            written.append(write_video(out / image_path(REAL, it.index), video, fps=grid.fps))
    sources: dict[str, str] = {}
    for row in lb.rows:
        videos = _from_run_folder(row, grid.items)
        source = f"videos of run {row.run.result.run_id} (SHA-256 checked against samples.jsonl)"
        if videos is None:
            videos = _regenerate(row, grid)
            weights = str(row.run.result.method_info.get("weights_sha256", ""))[:12]
            source = f"regenerated with the run's weights ({weights}) and generation settings"
        if videos is None:
            sources[row.method_id] = "not rendered (see the log)"
            continue
        sources[row.method_id] = source
        for it in grid.items:
            written.append(write_video(out / image_path(row.method_id, it.index), videos[it.index], fps=grid.fps))
        log.info("%s previews: %s", row.method_id, source)
    atomic_write_text(out / SAMPLES_DIR / "sources.json", json.dumps(sources, indent=1) + "\n")
    return written
