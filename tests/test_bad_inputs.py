"""A table of bad inputs: each exits 2 with one line naming the problem, no traceback, and changes no
file that existed before the command (issue 21).

The sandbox is built once: a finished run under ``runs/`` (its files must survive every command),
folders of videos (prompt-named, number-named, short, mixed shapes, broken, a dotfile-only folder),
prompts files and weights files of the wrong kind. Each case is one in-process CLI call; all but a few
fail before any video is generated, so the whole table takes seconds.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch

from vbench_lite.cli import main
from vbench_lite.pipeline import run
from vbench_lite.spec import ProfileOptions, RunSpec
from vbench_lite.suites.shapes import ShapesSuite
from vbench_lite.video import write_video

TOY = ["run", "--method", "toy", "--metrics", "toy-mean", "--num-videos", "4", "--no-profile"]


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]  # "{name}" placeholders are sandbox paths
    expect: str  # a part of the one-line message that names the problem
    env: dict[str, str] = field(default_factory=dict)  # "{name}" placeholders allowed
    fault: str | None = None  # an injected failure (see _inject)
    needs_no_cuda: bool = False


CASES = [
    # --- run: names, numbers, devices ----------------------------------------------------------
    Case("run-unknown-method", ["run", "--method", "tyo", "--out", "{runs}"], "unknown method 'tyo'"),
    Case("run-unknown-reference-method", ["run", "--method", "toy", "--reference-method", "tyo", "--out", "{runs}"],
         "unknown method 'tyo'"),
    Case("run-bad-reference-method", ["run", "--method", "toy", "--reference-method", "toy:Big", "--out", "{runs}"],
         "--reference-method: invalid variant 'Big'"),
    Case("run-unknown-variant", ["run", "--method", "toy:bright", "--out", "{runs}"], "no variant 'bright'"),
    Case("run-unknown-metric", [*TOY[:3], "--metrics", "toy-maen", "--out", "{runs}"], "Did you mean 'toy-mean'"),
    Case("run-empty-metrics", [*TOY[:3], "--metrics", ",", "--out", "{runs}"], "--metrics is empty"),
    Case("run-zero-videos", [*TOY[:5], "--num-videos", "0", "--out", "{runs}"], "at least 1"),
    Case("run-videos-not-a-number", [*TOY[:5], "--num-videos", "abc", "--out", "{runs}"], "invalid int value"),
    Case("run-split-reference", [*TOY, "--split", "reference", "--out", "{runs}"], "invalid choice"),
    Case("run-unknown-suite", [*TOY, "--suite", "shpaes", "--out", "{runs}"], "unknown suite 'shpaes'"),
    Case("run-batch-size-zero", [*TOY, "--batch-size", "0", "--out", "{runs}"], "batch_size must be at least 1"),
    Case("run-one-latency-repeat", [*TOY[:7], "--latency-repeats", "1", "--out", "{runs}"], "at least 2 measured"),
    Case("run-cuda-without-cuda", [*TOY, "--device", "cuda", "--out", "{runs}"], "no CUDA device", needs_no_cuda=True),
    Case("run-cuda-index", [*TOY, "--device", "cuda:7", "--out", "{runs}"], "--device cuda:7", needs_no_cuda=False),
    Case("run-unknown-device", [*TOY, "--device", "tpu", "--out", "{runs}"], "unknown --device 'tpu'"),
    # --- run: folders ----------------------------------------------------------------------------
    Case("run-out-is-a-file", [*TOY, "--out", "{a_file}"], "a_file.txt"),
    Case("run-out-unwritable", [*TOY, "--out", "/sys/vbench_lite_out"], "/sys/vbench_lite_out"),
    Case("run-cache-is-a-file", [*TOY, "--out", "{runs}"], "set VBENCH_LITE_CACHE to a writable folder",
         env={"VBENCH_LITE_CACHE": "{a_file}"}),
    Case("run-disk-full", [*TOY, "--out", "{runs}"], "No space left on device", fault="enospc"),
    # --- run: detectors and weights ----------------------------------------------------------------
    Case("run-unknown-detector", [*TOY, "--detector", "i3b", "--out", "{runs}"], "unknown detector 'i3b'"),
    Case("run-clip-as-detector", [*TOY, "--detector", "vit-b-32", "--out", "{runs}"], "not a video feature detector"),
    Case("run-detector-weights-missing", [*TOY, "--detector-weights", "{missing}", "--out", "{runs}"], "no such file"),
    Case("run-detector-weights-folder", [*TOY, "--detector-weights", "{videos}", "--out", "{runs}"], "is not a file"),
    Case("run-detector-weights-random", [*TOY[:3], "--metrics", "fvd", *TOY[5:], "--detector-weights", "{random_bin}",
                                         "--out", "{runs}"], "not a readable safetensors file"),
    Case("run-detector-weights-other-net", [*TOY[:3], "--metrics", "fvd", *TOY[5:], "--detector-weights",
                                            "{other_net}", "--out", "{runs}"], "is not a shapes-video checkpoint"),
    Case("run-i3d-not-torchscript", [*TOY[:3], "--metrics", "fvd", *TOY[5:], "--detector", "i3d",
                                     "--detector-weights", "{random_bin}", "--out", "{runs}"], "not a TorchScript file"),
    Case("run-i3d-no-weights", [*TOY[:3], "--metrics", "fvd", *TOY[5:], "--detector", "i3d", "--out", "{runs}"],
         "i3d detector weights not given", env={"VBENCH_LITE_WEIGHTS": ""}),
    Case("run-clip-weights-random", [*TOY[:3], "--metrics", "clipsim", *TOY[5:], "--clip-weights", "{random_bin}",
                                     "--out", "{runs}"], "cannot read CLIP weights"),
    Case("run-real-protocol-no-weights", [*TOY, "--vbench-protocol", "real", "--clip-weights", "{random_bin}",
                                          "--out", "{runs}"], "--vbench-protocol real needs --dino-weights, --raft-weights"),
    Case("run-dino-weights-missing", [*TOY, "--vbench-protocol", "real", "--dino-weights", "{missing}",
                                      "--out", "{runs}"], "--dino-weights"),
    Case("run-raft-without-real", [*TOY, "--raft-weights", "{random_bin}", "--out", "{runs}"],
         "add --vbench-protocol real"),
    Case("run-unknown-vbench-protocol", [*TOY, "--vbench-protocol", "vbench", "--out", "{runs}"], "invalid choice"),
    Case("run-amt-weights-folder", [*TOY, "--amt-weights", "{videos}", "--out", "{runs}"], "is not a file"),
    Case("run-reference-num-one", [*TOY, "--reference-num", "1", "--out", "{runs}"], "--reference-num must be at least 2"),
    # --- evaluate: folders and prompts -------------------------------------------------------------
    Case("eval-missing-folder", ["evaluate", "--videos", "{missing}", "--out", "{runs}"], "is not a folder"),
    Case("eval-file-as-folder", ["evaluate", "--videos", "{a_file}", "--out", "{runs}"], "is not a folder"),
    Case("eval-empty-folder", ["evaluate", "--videos", "{empty}", "--out", "{runs}"], "no video files"),
    Case("eval-only-dotfiles", ["evaluate", "--videos", "{dotfiles}", "--out", "{runs}"], "no video files"),
    Case("eval-broken-video", ["evaluate", "--videos", "{broken}", "--metrics", "toy-mean", "--out", "{runs}"],
         "broken.mp4"),
    Case("eval-names-are-not-prompts", ["evaluate", "--videos", "{numbered}", "--out", "{runs}"],
         "give the prompts with --prompts FILE"),
    Case("eval-named-metric-needs-prompts", ["evaluate", "--videos", "{numbered}", "--metrics", "clipsim",
                                             "--out", "{runs}"], "metric 'clipsim' needs prompts"),
    Case("eval-prompts-missing", ["evaluate", "--videos", "{videos}", "--prompts", "{missing}", "--out", "{runs}"],
         "prompts file not found"),
    Case("eval-prompts-folder", ["evaluate", "--videos", "{videos}", "--prompts", "{videos}", "--out", "{runs}"],
         "is a folder"),
    Case("eval-prompts-not-json", ["evaluate", "--videos", "{videos}", "--prompts", "{a_file}", "--out", "{runs}"],
         "is not valid JSON"),
    Case("eval-prompts-binary", ["evaluate", "--videos", "{videos}", "--prompts", "{random_bin}", "--out", "{runs}"],
         "is not UTF-8 text"),
    Case("eval-prompts-a-list", ["evaluate", "--videos", "{videos}", "--prompts", "{prompts_list}", "--out", "{runs}"],
         "must be a JSON object"),
    Case("eval-prompts-incomplete", ["evaluate", "--videos", "{videos}", "--prompts", "{prompts_partial}",
                                     "--out", "{runs}"], "has no prompt for 2 video(s)"),
    Case("eval-prompts-name-absent-videos", ["evaluate", "--videos", "{videos}", "--prompts", "{prompts_extra}",
                                             "--out", "{runs}"], "not in the folder: ghost.mp4"),
    Case("eval-name-escapes", ["evaluate", "--videos", "{videos}", "--metrics", "toy-mean", "--name", "../../../escaped",
                               "--out", "{runs}"], "is not a plain name"),
    Case("eval-name-hidden", ["evaluate", "--videos", "{videos}", "--metrics", "toy-mean", "--name", ".hidden",
                              "--out", "{runs}"], "is not a plain name"),
    Case("eval-unknown-suite", ["evaluate", "--videos", "{videos}", "--suite", "shpaes", "--out", "{runs}"],
         "unknown suite 'shpaes'"),
    Case("eval-metric-needs-baseline", ["evaluate", "--videos", "{videos}", "--metrics", "fidelity", "--out", "{runs}"],
         "needs reference_method"),
    # --- evaluate: frames ------------------------------------------------------------------------
    Case("eval-frames-zero", ["evaluate", "--videos", "{videos}", "--frames", "0", "--out", "{runs}"],
         "--frames must be at least 1"),
    Case("eval-sampling-without-frames", ["evaluate", "--videos", "{videos}", "--frame-sampling", "middle",
                                          "--out", "{runs}"], "needs --frames N"),
    Case("eval-sampling-unknown", ["evaluate", "--videos", "{videos}", "--frames", "8", "--frame-sampling", "random",
                                   "--out", "{runs}"], "unknown --frame-sampling 'random'"),
    Case("eval-stride-zero", ["evaluate", "--videos", "{videos}", "--frames", "8", "--frame-sampling", "stride:0",
                              "--out", "{runs}"], "unknown --frame-sampling 'stride:0'"),
    Case("eval-more-frames-than-clip", ["evaluate", "--videos", "{videos}", "--metrics", "toy-mean", "--frames", "40",
                                        "--out", "{runs}"], "first 40 frames of a 16-frame video"),
    Case("eval-stride-too-long", ["evaluate", "--videos", "{videos}", "--metrics", "toy-mean", "--frames", "16",
                                  "--frame-sampling", "stride:2", "--out", "{runs}"], "16 frames at stride 2 need 31"),
    Case("eval-named-metric-short-clips", ["evaluate", "--videos", "{short}", "--metrics", "fvd", "--out", "{runs}"],
         "expects 16 frames per video, got 8"),
    Case("eval-mixed-shapes", ["evaluate", "--videos", "{mixed}", "--metrics", "toy-mean", "--out", "{runs}"],
         "all videos of one evaluation must share frames and resolution"),
    Case("eval-out-is-a-file", ["evaluate", "--videos", "{videos}", "--metrics", "toy-mean", "--out", "{a_file}"],
         "a_file.txt"),
    # --- leaderboard, check, train, stats, profile ---------------------------------------------
    Case("leaderboard-missing-results", ["leaderboard", "--results", "{missing}", "--out", "{lb}"], "does not exist"),
    Case("leaderboard-misspelt-baseline", ["leaderboard", "--results", "{runs}", "--include-ineligible",
                                           "--baseline", "tyo", "--out", "{lb}"], "Did you mean 'toy'"),
    Case("leaderboard-unknown-format", ["leaderboard", "--results", "{runs}", "--format", "pdf", "--out", "{lb}"],
         "unknown --format pdf"),
    Case("check-hand-edited-results", ["check", "--results", "{edited}", "--baseline", "{runs}"],
         "results.spec must be a JSON object, got list"),
    Case("check-results-not-json", ["check", "--results", "{a_file}", "--baseline", "{runs}"], "is not valid JSON"),
    Case("check-missing-baseline", ["check", "--results", "{runs}", "--baseline", "{missing}"], "does-not-exist does not exist"),
    Case("train-zero-steps", ["train", "--method", "toy", "--steps", "0"], "--steps must be at least 1"),
    Case("train-unknown-method", ["train", "--method", "tyo", "--steps", "2"], "unknown method 'tyo'"),
    Case("train-out-and-export", ["train", "--method", "toy", "--out", "{lb}", "--export"], "not allowed with argument"),
    Case("stats-unknown-suite", ["stats", "--suite", "shpaes"], "unknown suite 'shpaes'"),
    Case("stats-unknown-detector", ["stats", "--suite", "shapes", "--detector", "i3b"], "unknown detector 'i3b'"),
    Case("profile-unknown-method", ["profile", "--method", "tyo"], "unknown method 'tyo'"),
]


def _video_folder(root: Path, name: str, items: list[Any], vids: torch.Tensor, names: list[str]) -> Path:
    d = root / name
    d.mkdir()
    for n, v in zip(names, vids):
        write_video(d / n, v)
    return d


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sandbox")
    os.environ.setdefault("VBENCH_LITE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    suite = ShapesSuite()
    items = suite.items("eval", 3)
    vids = suite.render(items)
    prompt_names = [f"{it.prompt}-{i}.mp4" for i, it in enumerate(items)]
    p: dict[str, Path] = {"root": root}
    p["videos"] = _video_folder(root, "videos", items, vids, prompt_names)
    p["numbered"] = _video_folder(root, "numbered", items, vids, [f"{i:04d}.mp4" for i in range(3)])
    p["short"] = _video_folder(root, "short", items, vids[:, :8], prompt_names)
    p["mixed"] = _video_folder(root, "mixed", items, vids, prompt_names[:2])
    write_video(p["mixed"] / "a blue cross standing still on a white background-9.mp4", vids[0, :12])
    p["broken"] = root / "broken"
    p["broken"].mkdir()
    (p["broken"] / "broken.mp4").write_bytes(b"not a video at all" * 20)
    p["empty"] = root / "empty"
    p["empty"].mkdir()
    p["dotfiles"] = root / "dotfiles"
    p["dotfiles"].mkdir()
    (p["dotfiles"] / "._a red circle-0.mp4").write_bytes(b"\0" * 64)  # macOS resource fork
    write_video(p["dotfiles"] / "a red circle moving left-0.tmp.mp4", vids[0])  # a leftover temporary
    p["a_file"] = root / "a_file.txt"
    p["a_file"].write_text("just a text file\n")
    p["random_bin"] = root / "random.bin"
    p["random_bin"].write_bytes(bytes(range(256)) * 64)
    p["other_net"] = Path(__file__).resolve().parents[1] / "vbench_lite" / "assets" / "shapes_clip.safetensors"
    p["missing"] = root / "does-not-exist"
    p["prompts_list"] = root / "prompts_list.json"
    p["prompts_list"].write_text(json.dumps(["a", "b", "c"]))
    p["prompts_partial"] = root / "prompts_partial.json"
    p["prompts_partial"].write_text(json.dumps({prompt_names[0]: "a red circle"}))
    p["prompts_extra"] = root / "prompts_extra.json"
    p["prompts_extra"].write_text(json.dumps({**{n: "a prompt" for n in prompt_names}, "ghost.mp4": "a ghost"}))
    p["runs"] = root / "runs"
    done = run(RunSpec.for_method("toy", num_videos=4, metrics=("toy-mean",), profile=ProfileOptions(enabled=False)),
               out=p["runs"], progress=False)
    p["finished_run"] = done.run_dir
    edited = json.loads((done.run_dir / "results.json").read_text())
    edited["spec"] = list(edited["spec"].items())  # a list where an object belongs
    p["edited"] = root / "edited" / "results.json"
    p["edited"].parent.mkdir()
    p["edited"].write_text(json.dumps(edited))
    p["lb"] = root / "lb"
    return p


def _snapshot(*roots: Path) -> dict[Path, str]:
    files = {}
    for r in roots:
        if r.is_dir():
            for f in r.rglob("*"):
                if f.is_file():
                    files[f] = hashlib.sha256(f.read_bytes()).hexdigest()
    return files


def _inject(fault: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if fault == "enospc":  # a full disk when the run writes its results
        import vbench_lite.results as results

        def full(path: Any, obj: Any, **kw: Any) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        monkeypatch.setattr(results, "atomic_write_json", full)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, sandbox: dict[str, Path], capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    if case.needs_no_cuda and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    fmt = {k: str(v) for k, v in sandbox.items()}
    argv = [a.format(**fmt) for a in case.argv]
    for k, v in case.env.items():
        monkeypatch.setenv(k, v.format(**fmt))
    monkeypatch.chdir(sandbox["root"])  # `train` writes under ./runs: inside the sandbox
    _inject(case.fault, monkeypatch)
    cache = Path(os.environ["VBENCH_LITE_CACHE"])
    before = _snapshot(sandbox["root"], cache if cache.is_dir() else sandbox["root"])
    run_dirs = sorted(sandbox["runs"].rglob("*"))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, f"exit {code}; stderr:\n{err}"
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert case.expect in errors[0], errors[0]
    after = _snapshot(sandbox["root"], cache if cache.is_dir() else sandbox["root"])
    changed = [str(f) for f, h in before.items() if after.get(f) != h]
    assert not changed, f"changed or removed: {changed}"
    assert sorted(sandbox["runs"].rglob("*")) == run_dirs, "a run folder was added or removed"
    assert not (sandbox["root"].parent / "escaped").exists()


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
