"""Every cache read is verified: a flipped byte or a truncated file is recomputed with a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vbench_lite.fsutil import cache_dir
from vbench_lite.pipeline import run
from vbench_lite.spec import ProfileOptions, RunSpec

SPEC = RunSpec.for_method("toy", num_videos=4, metrics=("toy-mean",), split="validation", seed_offset=40,
                          profile=ProfileOptions(enabled=False))


def _flip(path: Path, at: int = -100) -> None:
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))


def test_flipped_byte_in_a_cached_video_is_regenerated(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 21 item 2: the run used the corrupted video silently and 11 metrics shifted."""
    clean = run(SPEC, progress=False)
    files = sorted(cache_dir("videos").rglob("000040-*.pt"))
    assert len(files) == 1
    _flip(files[0])
    with caplog.at_level(logging.WARNING):
        again = run(SPEC, progress=False)
    assert "SHA-256 does not match" in caplog.text and files[0].name in caplog.text
    assert again.result.videos_sha256 == clean.result.videos_sha256
    assert again.result.metrics["toy-mean"].value == clean.result.metrics["toy-mean"].value


def test_corrupt_metric_cache_is_recomputed(caplog: pytest.LogCaptureFixture) -> None:
    clean = run(SPEC, progress=False)
    files = sorted(cache_dir("metrics", "toy-mean").rglob("*.npz"))
    assert files
    for f in files:
        f.write_bytes(f.read_bytes()[:40])  # truncated
    with caplog.at_level(logging.WARNING):
        again = run(SPEC, progress=False)
    assert "recomputing" in caplog.text
    assert again.result.metrics["toy-mean"].value == clean.result.metrics["toy-mean"].value


def test_truncated_reference_statistics_are_recomputed(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 21 item 3: a truncated .npz gave a BadZipFile traceback on every later run."""
    from vbench_lite.metrics.detectors import load_detector
    from vbench_lite.metrics.reference_stats import suite_reference_stats
    from vbench_lite.suites.shapes import ShapesSuite

    det = load_detector("shapes-video")
    first = suite_reference_stats(ShapesSuite(), det, num=16)
    assert first.path is not None
    first.path.write_bytes(first.path.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        again = suite_reference_stats(ShapesSuite(), det, num=16)
    assert "recomputing" in caplog.text
    assert (again.mu == first.mu).all() and (again.sigma == first.sigma).all()
    _flip(again.path)
    assert (suite_reference_stats(ShapesSuite(), det, num=16).mu == first.mu).all()


def test_corrupt_clip_training_data_cache_is_rebuilt(caplog: pytest.LogCaptureFixture) -> None:
    import torch

    from vbench_lite.metrics.clip_train import training_data

    first = training_data(num_videos=16)
    (path,) = cache_dir("shapes_clip").glob("data-*-train-16-*.pt")
    _flip(path)
    with caplog.at_level(logging.WARNING):
        again = training_data(num_videos=16)
    assert "SHA-256 does not match" in caplog.text
    assert torch.equal(first["frames"], again["frames"]) and first["captions"] == again["captions"]
