"""Run folders: unique ids under concurrency, staging, clean-up of only one's own work, file modes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vbench_lite.fsutil import UMASK, atomic_write_text, read_cache_bytes, write_cache_bytes
from vbench_lite.pipeline import run
from vbench_lite.results import RunResult, read_samples
from vbench_lite.run_folder import RunFolder, remove_stale_staging
from vbench_lite.spec import ProfileOptions, RunSpec

SPEC = RunSpec.for_method("toy", num_videos=4, metrics=("toy-mean",), profile=ProfileOptions(enabled=False))


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    a = RunFolder(tmp_path, "shapes", "toy", "abcdef0123")
    b = RunFolder(tmp_path, "shapes", "toy", "abcdef0123")
    assert a.base_id == b.base_id or a.base_id[:15] != b.base_id[:15]  # same second in practice
    (a.staging / "x.txt").write_text("a")
    (b.staging / "x.txt").write_text("b")
    pa, pb = a.publish(), b.publish()
    assert pa != pb and (pa / "x.txt").read_text() == "a" and (pb / "x.txt").read_text() == "b"
    if a.base_id == b.base_id:
        assert pb.name == pa.name + "-2"
    # a third, interrupted run removes only its own staging folder
    c = RunFolder(tmp_path, "shapes", "toy", "abcdef0123")
    (c.staging / "x.txt").write_text("c")
    c.discard()
    assert sorted(p.name for p in pa.parent.iterdir()) == sorted([pa.name, pb.name])


def test_interrupted_run_leaves_no_folders_it_created(tmp_path: Path) -> None:
    f = RunFolder(tmp_path / "runs", "shapes", "toy", "abcdef0123")
    f.discard()
    assert not (tmp_path / "runs").exists()


def test_identical_runs_started_together_keep_all_their_files(tmp_path: Path) -> None:
    """Issue 21 item 1: two identical runs in the same second shared one folder, and the interrupted
    one's clean-up deleted the survivor's videos."""
    first = run(SPEC, out=tmp_path, progress=False)
    second = run(SPEC, out=tmp_path, progress=False)
    assert first.run_dir != second.run_dir
    for out in (first, second):
        r = RunResult.load(out.run_dir)
        assert r.run_id == out.run_dir.name
        assert len(read_samples(out.run_dir)) == 4 == len(list((out.run_dir / "videos").iterdir()))


def test_stale_staging_of_a_killed_process_is_removed(tmp_path: Path) -> None:
    f = RunFolder(tmp_path, "shapes", "toy", "abcdef0123")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    stale = f.parent / f.staging.name.replace(f"-{os.getpid()}.partial", f"-{dead}.partial")
    f.staging.rename(stale)
    mine = RunFolder(tmp_path, "shapes", "toy", "abcdef0123")  # a live process's staging stays
    assert not stale.exists() and mine.staging.is_dir()
    assert remove_stale_staging(f.parent) == []


@pytest.mark.parametrize("name", ["../../escaped", "/abs", ".hidden", "a/b", "", "x" * 201])
def test_unsafe_names_never_reach_outside_out(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="not a plain name"):
        RunFolder(tmp_path / "out", "shapes", name, "abcdef0123")
    assert not (tmp_path / "out").exists()


def test_written_files_have_normal_modes(tmp_path: Path) -> None:
    """Issue 21 item 8: results, samples and caches were written 0600 (mkstemp's mode)."""
    want = 0o666 & ~UMASK
    p = atomic_write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE(p.stat().st_mode) == want
    out = run(SPEC, out=tmp_path / "runs", progress=False)
    for f in (out.run_dir / "results.json", out.run_dir / "samples.jsonl"):
        assert stat.S_IMODE(f.stat().st_mode) == want, f
    assert stat.S_IMODE(out.run_dir.stat().st_mode) == 0o777 & ~UMASK


def test_cache_file_fails_its_hash_after_a_flipped_byte(tmp_path: Path) -> None:
    p = write_cache_bytes(tmp_path / "c.bin", b"hello world" * 10)
    assert read_cache_bytes(p) == b"hello world" * 10
    raw = bytearray(p.read_bytes())
    raw[-3] ^= 1
    p.write_bytes(bytes(raw))
    assert read_cache_bytes(p) is None
    p.write_bytes(b"unverified old file")
    assert read_cache_bytes(p) is None


def test_results_inside_a_staging_folder_are_not_collected(tmp_path: Path) -> None:
    from vbench_lite.leaderboard.collect import find_results

    done = run(SPEC, out=tmp_path, progress=False)
    f = RunFolder(tmp_path, "shapes", "toy", "abcdef0123")
    (f.staging / "results.json").write_text((done.run_dir / "results.json").read_text())
    assert find_results(tmp_path) == [done.run_dir / "results.json"]
