"""The CLI at its edges: SIGTERM, training never overwriting shipped weights, the error net."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vbench_lite.cli import describe_failure, main

from .conftest import PLUGINS

SLOW_RUN = """
import sys, time
import toy_plugin
from vbench_lite.cli import main
original = toy_plugin.ToyMethod.generate
def slow(self, prompts, seeds, spec):
    time.sleep(0.5)
    return original(self, prompts, seeds, spec)
toy_plugin.ToyMethod.generate = slow
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    """Issue 21 item 8: SIGTERM printed nothing and left an empty run folder behind."""
    env = dict(os.environ, PYTHONPATH=str(PLUGINS), OMP_NUM_THREADS="1", VBENCH_LITE_CACHE=str(tmp_path / "cache"))
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, "run", "--method", "toy", "--metrics", "toy-mean", "--num-videos", "64",
         "--batch-size", "4", "--no-profile", "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "cache").glob("videos/*/*.pt")):
        time.sleep(0.1)
    assert list(out.glob("shapes/toy/.*.partial")), "the run should be staging by now"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    assert not out.exists(), f"left behind: {list(out.rglob('*'))}"
    assert list((tmp_path / "cache").glob("videos/*/*.pt"))  # finished batches are kept


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import toy_plugin

    weights = tmp_path / "shipped"
    weights.mkdir()
    (weights / "model.txt").write_text("the shipped weights\n")
    monkeypatch.setattr(toy_plugin.ToyMethod, "SHIPPED", weights)
    monkeypatch.chdir(tmp_path)
    return weights


def test_train_writes_a_run_folder_and_leaves_shipped_weights(shipped: Path, capsys) -> None:
    """Issue 21 item 7: `train --method baseline --steps 2` overwrote the shipped weights."""
    assert main(["train", "--method", "toy", "--steps", "2"]) == 0
    assert (shipped / "model.txt").read_text() == "the shipped weights\n"
    (run,) = (Path("runs") / "train" / "toy").iterdir()
    assert (run / "model.txt").read_text() == "toy weights: 2 steps, seed 0\n"
    out = capsys.readouterr().out
    assert f"weights: {run.resolve()}" in out or f"weights: {run}" in out
    assert "--export" in out
    assert main(["train", "--method", "toy", "--steps", "2"]) == 0  # a second run: its own folder
    assert len(list((Path("runs") / "train" / "toy").iterdir())) == 2
    assert main(["train", "--method", "toy", "--steps", "3", "--export"]) == 0
    assert (shipped / "model.txt").read_text() == "toy weights: 3 steps, seed 0\n"


def test_train_error_leaves_no_folder(shipped: Path) -> None:
    assert main(["train", "--detector", "no-such-detector", "--steps", "2"]) == 2
    assert not Path("runs").exists()


def test_describe_failure_maps_expected_errors_only() -> None:
    assert describe_failure(PermissionError(13, "Permission denied", "/x/results.json")) == (
        "/x/results.json: Permission denied; choose a folder you can write (--out) or fix its permissions")
    assert "No space left" in describe_failure(OSError(28, "No space left on device", "/x/v.mp4"))
    assert describe_failure(RuntimeError("Found no NVIDIA driver on your system.")).endswith("use --device cpu")
    assert describe_failure(AssertionError("Torch not compiled with CUDA enabled")).endswith("use --device cpu")
    assert describe_failure(KeyError("a bug")) is None
    assert describe_failure(RuntimeError("shape mismatch in a bug")) is None
