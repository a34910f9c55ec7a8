from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vbench_lite.cli import main
from vbench_lite.metrics.vbench.metric import VBenchConfig
from vbench_lite.pipeline.external import evaluate_folder, prompts_for
from vbench_lite.results import RunResult, read_samples
from vbench_lite.suites.shapes import ShapesSuite
from vbench_lite.video import read_video, write_video


def _folder(tmp_path: Path, n: int = 3) -> tuple[Path, list[str]]:
    suite = ShapesSuite()
    items = suite.items("eval", n)
    vids = suite.render(items)
    d = tmp_path / "vids"
    for i, (it, v) in enumerate(zip(items, vids)):
        write_video(d / f"{it.prompt}-{i}.mp4", v)
    return d, [it.prompt for it in items]


def test_prompts_from_file_names_and_json(tmp_path: Path) -> None:
    d, prompts = _folder(tmp_path)
    files = sorted(d.iterdir())
    got, source = prompts_for(files, None)
    assert sorted(got) == sorted(prompts) and "custom_input" in source
    pf = tmp_path / "p.json"
    pf.write_text(json.dumps({f.name: f"prompt {i}" for i, f in enumerate(files)}))
    assert prompts_for(files, pf)[0] == ["prompt 0", "prompt 1", "prompt 2"]


def test_prompts_file_missing_a_video(tmp_path: Path) -> None:
    d, _ = _folder(tmp_path)
    files = sorted(d.iterdir())
    pf = tmp_path / "p.json"
    pf.write_text(json.dumps({files[0].name: "x"}))
    with pytest.raises(ValueError, match=r"no prompt for 2 video\(s\): " + files[1].name[:10]):
        prompts_for(files, pf)


def test_evaluate_folder_writes_results(tmp_path: Path) -> None:
    d, _ = _folder(tmp_path)
    out = evaluate_folder(d, metrics=("toy-mean",), out=tmp_path / "runs", progress=False)
    r = RunResult.load(out.run_dir)
    assert r.split == "external" and not r.eligible and r.num_videos == 3
    assert "toy-mean" in r.metrics
    rows = read_samples(out.run_dir)
    assert Path(rows[0].path).is_file()


def test_evaluate_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--videos", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["evaluate", "--videos", str(empty), "--out", str(tmp_path)]) == 2
    assert "no video files" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.mp4").write_bytes(b"not a video at all" * 20)
    assert main(["evaluate", "--videos", str(bad), "--metrics", "toy-mean", "--out", str(tmp_path)]) == 2
    assert "broken.mp4" in capsys.readouterr().err


def test_names_that_are_not_prompts_are_never_taken_as_prompts(tmp_path: Path) -> None:
    """Issue 21 item 5: `0000.mp4` gave CLIPSIM against the text "0000" (0.017 instead of 0.77), exit 0."""
    from vbench_lite.pipeline.external import prompt_from_file_name

    assert prompt_from_file_name(Path("a red circle moving left-0.mp4")) == "a red circle moving left"
    for name in ("0000.mp4", "clip-3.mp4", "sample_0001.mp4", "a red circle.mp4", "1 2-3.mp4"):
        assert prompt_from_file_name(Path(name)) is None, name
    suite = ShapesSuite()
    d = tmp_path / "numbered"
    for i, v in enumerate(suite.render(suite.items("eval", 2))):
        write_video(d / f"{i:04d}.mp4", v)
    prompts, reason = prompts_for(sorted(d.iterdir()), None)
    assert prompts is None and "--prompts" in reason and "0000.mp4" in reason
    with pytest.raises(ValueError, match=r"metric 'clip(score|sim)' needs prompts.*--prompts FILE"):
        evaluate_folder(d, progress=False)
    # metrics that need no prompts still run on such a folder
    out = evaluate_folder(d, metrics=("toy-mean",), progress=False)
    assert out.result.spec["prompts"] is None and "toy-mean" in out.result.metrics


def test_prompt_file_naming_missing_videos_is_an_error(tmp_path: Path) -> None:
    d, _ = _folder(tmp_path, 2)
    files = sorted(d.iterdir())
    pf = tmp_path / "p.json"
    pf.write_text(json.dumps({files[0].name: "x", files[1].name: "y", "gone-0.mp4": "z"}))
    with pytest.raises(ValueError, match=r"names 1 video\(s\) that are not in the folder: gone-0.mp4"):
        prompts_for(files, pf)


def test_dotfiles_and_temporaries_are_not_videos(tmp_path: Path) -> None:
    from vbench_lite.video import list_videos

    d, _ = _folder(tmp_path, 2)
    v = read_video(next(d.iterdir()))
    write_video(d / "a red circle moving up-5.tmp.mp4", v)
    (d / "._a red circle moving up-5.mp4").write_bytes(b"\0" * 32)
    (d / ".a red circle moving up-5.123.tmp.mp4").write_bytes(b"\0" * 32)
    (d / "notes.txt").write_text("x")
    assert len(list_videos(d)) == 2


def test_frames_and_frame_sampling(tmp_path: Path) -> None:
    """--frames N --frame-sampling first|middle|stride:K read through video.frame_indices."""
    from vbench_lite.pipeline.external import read_videos
    from vbench_lite.video import frame_indices

    suite = ShapesSuite()
    items = suite.items("eval", 2)
    vids = suite.render(items, frames=40)
    d = tmp_path / "long"
    for i, (it, v) in enumerate(zip(items, vids)):
        write_video(d / f"{it.prompt}-{i}.mp4", v)
    files = sorted(d.iterdir())
    src = {f: vids[int(f.stem.rsplit("-", 1)[1])] for f in files}
    for sampling, want in (("first", list(range(16))), ("stride:2", list(range(0, 32, 2))),
                           ("middle", frame_indices(40, 16, "middle"))):
        got = read_videos(files, 16, sampling)
        for i, f in enumerate(files):
            assert torch.equal(got[i], src[f][want]), sampling
    out = evaluate_folder(d, metrics=("toy-mean",), frames=16, frame_sampling="stride:2", progress=False)
    assert out.result.spec["frames"] == 16 and out.result.spec["frame_sampling"] == "stride:2"


def test_metric_the_clips_cannot_support_is_skipped_with_a_reason(tmp_path: Path) -> None:
    """Issue 21 item 5: 8-frame clips ended in an error although other metrics were computable."""
    suite = ShapesSuite()
    items = suite.items("eval", 3)
    d = tmp_path / "short"
    for i, (it, v) in enumerate(zip(items, suite.render(items))):
        write_video(d / f"{it.prompt}-{i}.mp4", v[:8])
    out = evaluate_folder(d, out=tmp_path / "runs", progress=False,
                          metric_configs={"vbench": VBenchConfig(dimensions=("temporal_flickering",))})
    r = RunResult.load(out.run_dir)
    assert set(r.skipped) == {"fvd", "kvd"} and "expects 16 frames per video, got 8" in r.skipped["fvd"]
    assert "--frames 16" in r.skipped["fvd"]
    assert "fvd" not in r.metrics and "kvd" not in r.metrics
    assert r.metrics["clipsim"].value > 0.3 and "vbench_temporal_flickering" in r.metrics
    with pytest.raises(ValueError, match="expects 16 frames per video, got 8"):  # asked for by name
        evaluate_folder(d, metrics=("fvd",), progress=False)


def test_two_identical_evaluations_get_two_run_folders(tmp_path: Path) -> None:
    """Issue 21 item 1: the second of two evaluations finishing in the same second exited 2 after all
    its work ("choose another run id")."""
    d, _ = _folder(tmp_path, 2)
    a = evaluate_folder(d, metrics=("toy-mean",), out=tmp_path / "runs", progress=False)
    b = evaluate_folder(d, metrics=("toy-mean",), out=tmp_path / "runs", progress=False)
    assert a.run_dir != b.run_dir and a.run_dir.parent == b.run_dir.parent
    assert RunResult.load(a.run_dir).run_id == a.run_dir.name and RunResult.load(b.run_dir).run_id == b.run_dir.name
