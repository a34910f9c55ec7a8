"""Metric settings are typed and part of the run spec; ``run --config FILE`` reads a run spec from
TOML or JSON, and flags beside it override it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vbench_lite.cli import main
from vbench_lite.metrics.base import MetricContext
from vbench_lite.metrics.distribution import FVDConfig, KVDConfig
from vbench_lite.metrics.vbench.metric import VBenchConfig
from vbench_lite.registries import METRICS
from vbench_lite.results import RunResult
from vbench_lite.run_file import RunFileError, load_run_file
from vbench_lite.spec import RunSpec

TOML = """
method = "toy:dark"
split = "validation"
num_videos = 4
metrics = ["toy-mean", "fvd"]
reference_method = "toy"

[profile]
enabled = false

[metric_configs.fvd]
reference_num = 24
bootstrap = 3
detector_weights = "weights/det.safetensors"

[metric_configs.vbench]
dimensions = ["temporal_flickering"]
"""


def test_every_metric_declares_a_frozen_config() -> None:
    import dataclasses

    for name in ("fvd", "kvd", "clipsim", "clipscore", "vbench", "fidelity"):
        metric = METRICS.build(name)
        cls = type(metric).config_class
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, name
        assert isinstance(metric.config, cls) and metric.config == cls()
    assert not hasattr(MetricContext(), "options")  # settings travel typed, never in an option bag
    with pytest.raises(TypeError, match="takes a FVDConfig"):
        METRICS.build("fvd", config=VBenchConfig())


def test_the_spec_hash_covers_the_metric_configs() -> None:
    plain = RunSpec(method="toy")
    a = RunSpec(method="toy", metric_configs={"fvd": FVDConfig(bootstrap=3)})
    b = RunSpec(method="toy", metric_configs={"fvd": FVDConfig(bootstrap=4)})
    assert len({plain.content_hash(), a.content_hash(), b.content_hash()}) == 3
    assert RunSpec.from_dict(a.to_dict()) == a and a.metric_config("fvd") == FVDConfig(bootstrap=3)
    assert a.to_dict()["metric_configs"]["fvd"]["bootstrap"] == 3
    with pytest.raises(ValueError, match="has no setting boostrap; its settings: bootstrap, covariance"):
        RunSpec.from_dict({"method": "toy", "metric_configs": {"fvd": {"boostrap": 3}}})
    with pytest.raises(ValueError, match="unknown metric 'fdv'"):
        RunSpec.from_dict({"method": "toy", "metric_configs": {"fdv": {}}})
    with pytest.raises(ValueError, match="reference_num must be at least 2"):
        KVDConfig(reference_num=1)


def test_toml_and_json_run_files_give_one_spec(tmp_path: Path) -> None:
    (tmp_path / "run.toml").write_text(TOML)
    spec = load_run_file(tmp_path / "run.toml")
    assert spec.method_id == "toy:dark" and spec.split == "validation" and spec.num_videos == 4
    assert spec.metrics == ("toy-mean", "fvd") and spec.reference_method == "toy" and not spec.profile.enabled
    fvd = spec.metric_config("fvd")
    assert fvd == FVDConfig(reference_num=24, bootstrap=3, detector_weights=str(tmp_path / "weights/det.safetensors"))
    assert spec.metric_config("vbench") == VBenchConfig(dimensions=("temporal_flickering",))
    (tmp_path / "run.json").write_text(json.dumps(spec.to_dict()))
    assert load_run_file(tmp_path / "run.json") == spec


@pytest.mark.parametrize(("text", "message"), [
    ('method = "toy"\nsplits = "eval"\n', "unknown key(s) splits"),
    ('split = "eval"\n', "no method"),
    ('method = "toy"\n[profile]\nrepeat = 3\n', "unexpected keyword argument 'repeat'"),
    ('method = "toy"\n[metric_configs.fvd]\ndetectr = "i3d"\n', "has no setting detectr"),
    ('method = "toy"\nsplit = "evaluation"\n', "unknown split 'evaluation'"),
    ('method = "toy"\nmetrics = "fvd"\n', "metrics must be a list"),
    ('method = "toy" split', "is not valid TOML"),
])
def test_bad_run_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "run.toml").write_text(text)
    with pytest.raises(RunFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_run_file(tmp_path / "run.toml")


def test_run_config_from_the_cli_with_flags_on_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run.toml").write_text('method = "toy"\nsplit = "validation"\nnum_videos = 3\n'
                                       'metrics = ["toy-mean"]\n[profile]\nenabled = false\n')
    out = tmp_path / "runs"
    assert main(["run", "--config", str(tmp_path / "run.toml"), "--num-videos", "2", "--out", str(out)]) == 0
    result = RunResult.load(next(out.rglob("results.json")))
    assert result.num_videos == 2 and result.split == "validation" and set(result.metrics) == {"toy-mean", "toy-spread"}
    assert result.spec["profile"]["enabled"] is False and result.profile is None
    capsys.readouterr()
    assert main(["run", "--config", str(tmp_path / "nope.toml"), "--out", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["run", "--out", str(out)]) == 2
    assert "give --method NAME[:VARIANT] or a run file with --config FILE" in capsys.readouterr().err


def test_cli_flags_become_typed_configs(tmp_path: Path) -> None:
    import argparse

    from vbench_lite.cli.metric_options import metric_configs_from_args

    weights = tmp_path / "clip.pt"
    weights.write_bytes(b"x")
    args = argparse.Namespace(detector="i3d", detector_weights=None, reference_num=64, clip_weights=str(weights),
                              vbench_protocol=None, dino_weights=None, raft_weights=None, amt_weights=None)
    configs = metric_configs_from_args(args, {"fvd": FVDConfig(bootstrap=7)})
    assert configs["fvd"] == FVDConfig(detector="i3d", reference_num=64, bootstrap=7)  # the file's bootstrap kept
    assert configs["kvd"] == KVDConfig(detector="i3d", reference_num=64)
    assert configs["clipsim"].clip_weights == str(weights) == configs["vbench"].clip_weights
