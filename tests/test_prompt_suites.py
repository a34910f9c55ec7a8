"""Prompt-list suites (`--suite prompts:FILE`) and the user's own real reference videos
(`--reference DIR`, `--reference-stats FILE`, `stats --videos DIR --out FILE`, bare mu/sigma files),
through the real CLI with the toy plugin method and a randomly initialised I3D-interface TorchScript."""

# ruff: noqa: F811 - the test functions take the fixtures imported from test_i3d_route by name

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.test_i3d_route import TinyI3D, _few_bootstrap_resamples, i3d_file  # noqa: F401 - shared fixtures
from vbench_lite.cli import main
from vbench_lite.results import RunResult
from vbench_lite.suites import build_suite
from vbench_lite.suites.prompts import SEED_STRIDE
from vbench_lite.video import write_video

PROMPTS = ["a cat walking on the beach", "a red car driving at night", "fireworks over a city"]


def write_real_videos(folder: Path, n: int, frames: int = 20, size: int = 32, seed: int = 0) -> Path:
    g = torch.Generator().manual_seed(seed)
    for i in range(n):
        write_video(folder / f"real_{i:02d}.mp4", torch.randint(0, 256, (frames, 3, size, size), generator=g,
                                                                dtype=torch.uint8))
    return folder


@pytest.fixture(scope="module")
def real_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_real_videos(tmp_path_factory.mktemp("real"), 12)


def test_text_prompt_list_seeds_and_samples(tmp_path: Path) -> None:
    f = tmp_path / "my prompts.txt"
    f.write_text("# a comment\n" + "\n".join(PROMPTS) + "\n\n")
    suite = build_suite(f"prompts:{f}")
    assert suite.name == "prompts-my-prompts" and not suite.has_reference
    items = suite.items("eval")
    assert len(items) == 3 * 5 and suite.split_size("eval") == 15
    assert [it.prompt for it in items[:6]] == [PROMPTS[0]] * 5 + [PROMPTS[1]]
    assert [it.seed for it in items[4:7]] == [4, SEED_STRIDE, SEED_STRIDE + 1]
    assert items[7].attributes == {"prompt_index": 1, "sample_index": 2}
    # another sample count keeps every video's seed
    two = build_suite(f"prompts:{f}?samples=2").items("eval")
    assert [(it.prompt, it.seed) for it in two] == [(p, i * SEED_STRIDE + s) for i, p in enumerate(PROMPTS)
                                                   for s in range(2)]
    assert suite.describe()["sha256"] and suite.version == build_suite(f"prompts:{f}").version


def test_vbench_prompt_json(tmp_path: Path) -> None:
    f = tmp_path / "VBench_full_info.json"
    f.write_text(json.dumps([{"prompt_en": "a dog running", "dimension": ["subject_consistency"]},
                             {"prompt_en": "a boat sailing", "dimension": ["dynamic_degree", "motion_smoothness"]}]))
    items = build_suite(f"prompts:{f}?samples=1").items("eval")
    assert [it.prompt for it in items] == ["a dog running", "a boat sailing"]
    assert items[1].attributes["dimension"] == ["dynamic_degree", "motion_smoothness"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "holds no prompt"), ('[{"caption": "x"}]', "no 'prompt_en'"), ("[1", "not valid JSON")],
)
def test_bad_prompt_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str) -> None:
    f = tmp_path / ("p.json" if content.startswith("[") else "p.txt")
    f.write_text(content)
    assert main(["run", "--method", "toy", "--suite", f"prompts:{f}", "--no-profile", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_prompt_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.txt"
    assert main(["run", "--method", "toy", "--suite", f"prompts:{missing}", "--no-profile"]) == 2
    assert f"prompt file not found: {missing}" in capsys.readouterr().err


def _prompt_file(tmp_path: Path) -> Path:
    f = tmp_path / "prompts.txt"
    f.write_text("\n".join(PROMPTS) + "\n")
    return f


def test_fvd_without_reference_is_skipped_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Default metrics on a prompt list: FVD/KVD have no real videos, so they are skipped with the reason
    (never 0); without a reference method fidelity is skipped too."""
    args = ["run", "--method", "toy", "--suite", f"prompts:{_prompt_file(tmp_path)}?samples=2", "--no-profile",
            "--reference-method", "none", "--out", str(tmp_path / "runs"), "--json"]
    assert main(args) == 0, capsys.readouterr().err
    r = RunResult.from_dict(json.loads(capsys.readouterr().out))
    assert "fvd" not in r.metrics and "kvd" not in r.metrics
    assert "--reference DIR" in r.skipped["fvd"] and "no reference split" in r.skipped["kvd"]
    assert "--reference-method" in r.skipped["fidelity"] and r.num_videos == 6 and r.suite == "prompts-prompts"


def test_fvd_asked_for_without_reference_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--method", "toy", "--suite", f"prompts:{_prompt_file(tmp_path)}", "--metrics", "fvd",
            "--no-profile", "--out", str(tmp_path / "runs")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--reference DIR" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("results.json"))


def test_run_against_a_folder_and_its_stats_file(i3d_file: Path, real_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """FVD/KVD against the user's folder of real videos; `stats --videos --out` writes a file that gives the
    same numbers through --reference-stats, and both record the same reference identity."""
    common = ["run", "--method", "toy", "--suite", f"prompts:{_prompt_file(tmp_path)}?samples=3", "--metrics",
              "fvd,kvd", "--no-profile", "--detector", "i3d", "--detector-weights", str(i3d_file), "--json"]
    assert main([*common, "--reference", str(real_dir), "--out", str(tmp_path / "a")]) == 0, capsys.readouterr().err
    a = RunResult.from_dict(json.loads(capsys.readouterr().out))
    stats_file = tmp_path / "real_stats.npz"
    assert main(["stats", "--videos", str(real_dir), "--detector", "i3d", "--detector-weights", str(i3d_file),
                 "--out", str(stats_file), "--json"]) == 0, capsys.readouterr().err
    info = json.loads(capsys.readouterr().out)
    assert info["num"] == 12 and info["path"] == str(stats_file) and stats_file.is_file()
    assert main([*common, "--reference-stats", str(stats_file), "--out", str(tmp_path / "b")]) == 0
    b = RunResult.from_dict(json.loads(capsys.readouterr().out))
    for name in ("fvd", "kvd"):
        assert a.metrics[name].value == b.metrics[name].value
        assert a.metrics[name].protocol == b.metrics[name].protocol
        src = a.metrics[name].protocol["reference_source"]
        assert src["kind"] == "folder" and src["frame_sampling"] == "first" and "path" not in src
        assert a.metrics[name].protocol["num_reference"] == 12 and a.metrics[name].protocol["num_generated"] == 9


def test_reference_sampling_is_part_of_the_protocol(i3d_file: Path, real_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A stats file made with other clips (middle frames) is refused by a run asking for the first frames."""
    stats_file = tmp_path / "middle.npz"
    assert main(["stats", "--videos", str(real_dir), "--frame-sampling", "middle", "--detector", "i3d",
                 "--detector-weights", str(i3d_file), "--out", str(stats_file)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    base = ["run", "--method", "toy", "--suite", f"prompts:{_prompt_file(tmp_path)}?samples=1", "--metrics", "fvd",
            "--no-profile", "--detector", "i3d", "--detector-weights", str(i3d_file), "--out", str(tmp_path / "r")]
    assert main([*base, "--reference-stats", str(stats_file), "--reference-frame-sampling", "first"]) == 2
    err = capsys.readouterr().err
    assert "another protocol" in err and "'middle' (file)" in err and "Traceback" not in err
    assert main([*base, "--reference-stats", str(stats_file), "--json"]) == 0  # the file's own sampling
    r = RunResult.from_dict(json.loads(capsys.readouterr().out))
    assert r.metrics["fvd"].protocol["reference_source"]["frame_sampling"] == "middle"


def test_stats_file_of_another_detector_is_refused(i3d_file: Path, real_dir: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(1)
    other = tmp_path / "other_i3d.pt"
    torch.jit.script(TinyI3D().eval()).save(str(other))
    stats_file = tmp_path / "s.npz"
    assert main(["stats", "--videos", str(real_dir), "--detector", "i3d", "--detector-weights", str(other),
                 "--out", str(stats_file)]) == 0
    capsys.readouterr()
    args = ["run", "--method", "toy", "--suite", f"prompts:{_prompt_file(tmp_path)}?samples=1", "--metrics", "fvd",
            "--no-profile", "--detector", "i3d", "--detector-weights", str(i3d_file),
            "--reference-stats", str(stats_file), "--out", str(tmp_path / "r")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err  # one line, before any video was generated (no progress bar)
    assert err.startswith("vbench-lite run: error: --reference-stats") and "another protocol" in err
    assert "weights_sha256" in err


def test_bare_mean_covariance_file_with_a_declared_protocol(i3d_file: Path, real_dir: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """StyleGAN-V / cd-fvd style mu/sigma .npz: FVD equals the folder's when the declared protocol is the
    one the folder was measured under; KVD (needs features) is skipped; without the protocol it is refused."""
    stats_file = tmp_path / "full.npz"
    assert main(["stats", "--videos", str(real_dir), "--detector", "i3d", "--detector-weights", str(i3d_file),
                 "--out", str(stats_file)]) == 0
    capsys.readouterr()
    with np.load(stats_file) as z:
        bare = tmp_path / "ucf_i3d_mu_sigma.npz"
        np.savez(bare, mu=z["mu"], sigma=z["sigma"])
    prompts = _prompt_file(tmp_path)
    base = ["run", "--method", "toy", "--suite", f"prompts:{prompts}?samples=3", "--no-profile", "--detector", "i3d",
            "--detector-weights", str(i3d_file), "--json"]
    assert main([*base, "--metrics", "fvd", "--reference", str(real_dir), "--out", str(tmp_path / "a")]) == 0
    folder_fvd = RunResult.from_dict(json.loads(capsys.readouterr().out)).metrics["fvd"].value
    assert main([*base, "--reference-stats", str(bare), "--out", str(tmp_path / "b")]) == 2
    assert "--reference-stats-protocol" in capsys.readouterr().err
    assert main([*base, "--reference-stats", str(bare), "--reference-stats-protocol", "stylegan-v",
                 "--out", str(tmp_path / "c")]) == 0, capsys.readouterr().err
    r = RunResult.from_dict(json.loads(capsys.readouterr().out))
    assert r.metrics["fvd"].value == pytest.approx(folder_fvd, rel=1e-9)
    assert r.metrics["fvd"].protocol["reference_source"]["declared_protocol"] == "stylegan-v"
    assert "kvd" in r.skipped and "only a mean and covariance" in r.skipped["kvd"]


def test_reference_folder_errors(i3d_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No readable video, clips too short (how many and which), an unreadable file: one line, exit 2."""
    prompts = _prompt_file(tmp_path)
    base = ["run", "--method", "toy", "--suite", f"prompts:{prompts}?samples=1", "--metrics", "fvd", "--no-profile",
            "--detector", "i3d", "--detector-weights", str(i3d_file), "--out", str(tmp_path / "r")]
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no videos here")
    assert main([*base, "--reference", str(empty)]) == 2
    assert "no readable video" in capsys.readouterr().err
    short = write_real_videos(tmp_path / "short", 3, frames=20)
    write_real_videos(tmp_path / "short_tmp", 2, frames=10, seed=1)
    for i, f in enumerate(sorted((tmp_path / "short_tmp").iterdir())):
        f.rename(short / f"clip_{i}.mp4")
    assert main([*base, "--reference", str(short)]) == 2
    err = capsys.readouterr().err
    assert "2 of 5 videos have fewer than the 16 frames" in err and "clip_0.mp4 (10)" in err and "clip_1.mp4 (10)" in err
    assert main([*base, "--reference", str(short), "--reference-frame-sampling", "stride:2"]) == 2
    assert "fewer than the 31 frames" in capsys.readouterr().err
    broken = write_real_videos(tmp_path / "broken", 2)
    (broken / "bad.mp4").write_bytes(b"not a video at all")
    assert main([*base, "--reference", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "1 of 3 videos cannot be read" in err and "bad.mp4" in err and "Traceback" not in err
    assert main([*base, "--reference", str(tmp_path / "absent")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main([*base, "--reference-stats", str(tmp_path / "absent.npz")]) == 2
    assert "absent.npz: no such file" in capsys.readouterr().err
    assert not any((tmp_path / "r").rglob("results.json"))


def test_evaluate_against_a_reference_folder(i3d_file: Path, real_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    gen = write_real_videos(tmp_path / "generated", 6, frames=16, seed=5)
    args = ["evaluate", "--videos", str(gen), "--suite", "none", "--metrics", "fvd,kvd", "--reference", str(real_dir),
            "--detector", "i3d", "--detector-weights", str(i3d_file), "--out", str(tmp_path / "runs"), "--json"]
    assert main(args) == 0, capsys.readouterr().err
    r = RunResult.from_dict(json.loads(capsys.readouterr().out))
    assert r.metrics["fvd"].protocol["num_reference"] == 12 and r.metrics["fvd"].value > 0
