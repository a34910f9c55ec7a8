"""The HTML page's samples: which prompts, where the previews come from, what the page says."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tests.test_leaderboard_fixtures import standard_results
from vbench_lite.leaderboard import collect, render_leaderboard, samples, table
from vbench_lite.pipeline.generation import video_sha256
from vbench_lite.registries import SUITES
from vbench_lite.results import SampleRow, write_samples
from vbench_lite.video import read_video, write_video


def with_run_videos(root: Path) -> Path:
    """``standard_results`` whose chosen runs also hold ``videos/`` and ``samples.jsonl`` for the
    preview pool, as `run` writes them: each method's "generated" video is the suite's real render,
    colour-inverted by a per-method amount, so columns differ."""
    standard_results(root)
    pool = SUITES.build("shapes").items("eval", samples.PREVIEW_POOL, 0)
    real = SUITES.build("shapes").render(pool)
    runs = collect.latest_eligible(collect.load_runs(root, suite="shapes"))
    for k, run in enumerate(runs):
        run_dir = run.path.parent
        rows = []
        for it, video in zip(pool, real):
            v = (video.to(torch.int16) + 60 * k).clamp(0, 255).to(torch.uint8)
            write_video(run_dir / "videos" / f"{it.index:04d}.mp4", v)
            rows.append(SampleRow(index=it.index, prompt=it.prompt, seed=it.seed, path=f"videos/{it.index:04d}.mp4",
                                  sha256=video_sha256(v)))
        write_samples(run_dir, rows)
    return root


def test_preview_prompts_are_fixed_by_the_suite_and_span_its_attributes() -> None:
    pool = SUITES.build("shapes").items("eval", samples.PREVIEW_POOL, 0)
    chosen = samples.preview_items(pool)
    assert [it.index for it in chosen] == [it.index for it in samples.preview_items(list(reversed(pool)))]
    assert len(chosen) == 8
    attrs = [it.attributes for it in chosen]
    assert {a["direction"] for a in attrs} == {"left", "right", "up", "down", "still"}
    assert {a["relation"] for a in attrs} >= {"above", "left of"}
    assert len({a["color"] for a in attrs}) == 7 and len({a["background"] for a in attrs}) == 3


def test_page_shows_every_method_on_the_same_prompts(tmp_path: Path) -> None:
    root = standard_results(tmp_path / "results")
    out = tmp_path / "lb"
    render_leaderboard(root, out, formats=["html"], copy_results=False)
    page = (out / "leaderboard.html").read_text()
    section = page.split("<h2>Samples</h2>", 1)[1].split("</table>", 1)[0]
    for method in ("real", "baseline", "sned_s-32", "tpdiff"):
        assert section.count(f'src="samples/{method}/') == 8, method
    assert section.count('<tr class="prompt">') == 8
    assert "a yellow circle moving up quickly on a gray background" in section
    assert "http" not in page and not (out / "samples").exists()  # no previews without --with-videos


def test_previews_come_from_the_run_folders_checked_by_sha256(tmp_path: Path, caplog) -> None:
    root = with_run_videos(tmp_path / "results")
    out = tmp_path / "lb"
    done = render_leaderboard(root, out, formats=["html"], copy_results=False, with_videos=True)
    assert len(done.previews) == 8 * 4
    sources = json.loads((out / "samples" / "sources.json").read_text())
    assert all(s.startswith("videos of run") for s in sources.values()), sources
    grid = samples.sample_grid(done.leaderboard)
    assert grid is not None
    it = grid.items[0]
    run = next(r for r in done.leaderboard.rows if r.method_id == "tpdiff").run
    original = read_video(run.path.parent / "videos" / f"{it.index:04d}.mp4")
    gif = read_video(out / samples.image_path("tpdiff", it.index))
    assert gif.shape == original.shape
    assert (gif.float() - original.float()).abs().mean() < 3.0  # a GIF palette, not a different video

    # a video that no longer matches samples.jsonl is not shown; the method cannot be regenerated
    # here (the fixture records no weights), so its previews are "not rendered", said so in the log
    write_video(run.path.parent / "videos" / f"{it.index:04d}.mp4", torch.zeros_like(original))
    out2 = tmp_path / "lb2"
    render_leaderboard(root, out2, formats=["html"], copy_results=False, with_videos=True)
    sources = json.loads((out2 / "samples" / "sources.json").read_text())
    assert sources["tpdiff"].startswith("not rendered") and sources["baseline"].startswith("videos of run")
    assert not (out2 / samples.image_path("tpdiff", it.index)).exists()
    assert "differs from the SHA-256 in samples.jsonl" in caplog.text


def test_no_samples_section_when_rows_share_no_prompts(tmp_path: Path) -> None:
    root = standard_results(tmp_path / "results")
    runs = collect.latest_eligible(collect.load_runs(root, suite="shapes"))
    runs[1].result.spec["seed_offset"] = 7  # another draw of prompts: nothing to put side by side
    assert samples.sample_grid(table.build(runs, suite="shapes")) is None
