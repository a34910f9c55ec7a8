from __future__ import annotations

import json
from pathlib import Path

import pytest

from vbench_lite.cli import main
from vbench_lite.pipeline.external import evaluate_folder, prompts_for
from vbench_lite.results import RunResult, read_samples
from vbench_lite.suites.shapes import ShapesSuite
from vbench_lite.video import write_video


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
