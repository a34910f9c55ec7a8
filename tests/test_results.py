from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from vbench_lite.fsutil import atomic_write_json, atomic_write_text
from vbench_lite.results import (
    SCHEMA,
    MetricResult,
    RunResult,
    SampleRow,
    SchemaError,
    read_samples,
    write_samples,
)
from vbench_lite.spec import GenerationSpec, ProfileOptions, RunSpec


def _result() -> RunResult:
    spec = RunSpec.for_method("sned:s-32", num_videos=4, metrics=("fvd",))
    return RunResult(
        method="sned",
        variant="s-32",
        suite="shapes",
        split="eval",
        num_videos=4,
        eligible=False,
        spec=spec.to_dict(),
        spec_hash=spec.content_hash(),
        metrics={
            "fvd": MetricResult("fvd", "1", 12.5, False, {"detector": "shapes-video"}, std=0.5),
            "psnr": MetricResult("psnr", "1", math.inf, True),
        },
        profile={"flops": {"total": 1e9, "unit": "FLOP"}},
    )


def test_round_trip(tmp_path: Path) -> None:
    r = _result()
    r.save(tmp_path)
    back = RunResult.load(tmp_path)
    assert back == r
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["schema"] == SCHEMA
    assert data["metrics"]["psnr"]["value"] == "inf"  # standard JSON, infinity kept


def test_wrong_schema_version(tmp_path: Path) -> None:
    d = _result().to_dict()
    d["schema"] = "vbench_lite.results/0"
    (tmp_path / "results.json").write_text(json.dumps(d))
    with pytest.raises(SchemaError, match="not supported"):
        RunResult.load(tmp_path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("method"), "missing required field"),
        (lambda d: d.update(num_videos=-1), "num_videos"),
        (lambda d: d.update(eligible="yes"), "eligible"),
        (lambda d: d["metrics"]["fvd"].update(value="big"), "expected a number"),
        (lambda d: d["metrics"]["fvd"].update(higher_is_better=1), "higher_is_better"),
    ],
)
def test_validation_errors(mutate, message: str) -> None:
    d = _result().to_dict()
    mutate(d)
    with pytest.raises(SchemaError, match=message):
        RunResult.from_dict(d)


def test_not_json(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{oops")
    with pytest.raises(SchemaError, match="not valid JSON"):
        RunResult.load(tmp_path)


def test_samples_round_trip(tmp_path: Path) -> None:
    rows = [SampleRow(1, "b", 11, scores={"x": 0.5}), SampleRow(0, "a", 10, {"color": "red"}, {"x": math.inf})]
    write_samples(tmp_path, rows)
    back = read_samples(tmp_path)
    assert [r.index for r in back] == [0, 1]
    assert back[0].scores["x"] == math.inf and back[0].attributes == {"color": "red"}


def test_atomic_write_keeps_old_content_on_failure(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    atomic_write_json(p, {"a": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(p, {"a": Boom()})
    assert json.loads(p.read_text()) == {"a": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["x.json"]  # no temp files left behind


def test_atomic_write_replaces(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "t.txt"
    atomic_write_text(p, "one")
    atomic_write_text(p, "two")
    assert p.read_text() == "two"


def test_spec_hash_stable_and_sensitive() -> None:
    a = RunSpec.for_method("baseline", num_videos=8)
    b = RunSpec.for_method("baseline", num_videos=8)
    c = RunSpec.for_method("baseline", num_videos=9)
    assert a.content_hash() == b.content_hash() != c.content_hash()
    assert hash(a) == hash(b)  # frozen and hashable
    assert RunSpec.from_dict(a.to_dict()) == a


def test_spec_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown split"):
        RunSpec(method="x", split="test")
    with pytest.raises(ValueError, match="resolution 40"):
        GenerationSpec(resolution=40)
    with pytest.raises(ValueError, match="at least 2 measured repeats"):
        ProfileOptions(repeats=1)
    with pytest.raises(ValueError, match="num-videos"):
        RunSpec(method="x", num_videos=0)


def test_cache_dir_respects_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vbench_lite.fsutil import cache_dir

    monkeypatch.setenv("VBENCH_LITE_CACHE", str(tmp_path / "c"))
    assert cache_dir("x") == tmp_path / "c" / "x"
    assert os.path.isdir(tmp_path / "c" / "x")
