"""The ``baseline`` adapter: registration, bad input, checkpoint errors, and the shipped weights."""

from __future__ import annotations

import shutil

import pytest
import torch

from vbench_lite.methods.backbone.autoencoder import WEIGHTS_DIR as AE_WEIGHTS
from vbench_lite.methods.backbone.checkpoint import CheckpointError, save_checkpoint
from vbench_lite.methods.backbone.model import save_model
from vbench_lite.methods.backbone.tiny import randomize, tiny_autoencoder, tiny_model
from vbench_lite.methods.baseline import BaselineMethod
from vbench_lite.methods.baseline.recipe import WEIGHTS_DIR
from vbench_lite.spec import GenerationSpec

PROMPT = "a red circle moving left slowly on a black background"


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A tiny baseline checkpoint + its autoencoder, written through the real save code."""
    root = tmp_path_factory.mktemp("tiny_baseline")
    ae = randomize(tiny_autoencoder(), std=0.1)
    from dataclasses import asdict

    save_checkpoint(root / "ae", {"autoencoder": ae.state_dict()}, {"autoencoder": asdict(ae.config)})
    from vbench_lite.methods.backbone.autoencoder import load_autoencoder

    _, ae_sha = load_autoencoder(root / "ae")
    save_model(root / "model", tiny_model(), {"autoencoder_sha256": ae_sha,
                                              "sampler": {"steps": 2, "sampler": "euler", "cfg_scale": 3.0}})
    return root


@pytest.fixture
def method(tiny_weights):
    m = BaselineMethod(weights=tiny_weights / "model", autoencoder=tiny_weights / "ae")
    m.micro_batch = 2
    m.load("cpu")
    return m


def test_registered_through_the_entry_point_group():
    from vbench_lite import load_method

    m = load_method("baseline")
    assert isinstance(m, BaselineMethod) and m.name == "baseline"


def test_generates_uint8_videos_and_describes_itself(method):
    v = method.generate([PROMPT, PROMPT], [1, 2], GenerationSpec())
    assert v.shape == (2, 16, 3, 32, 32) and v.dtype == torch.uint8
    d = method.describe()
    assert d["steps"] == 2 and d["nfe"] == 4 and d["frames"] == 16 and d["resolution"] == 32
    assert d["params"] > 0 and len(d["weights_sha256"]) == 64
    module, inputs = method.denoiser()
    with torch.no_grad():
        out = module(*inputs)
    assert out.shape == inputs[0].shape and inputs[0].shape[0] == 2 * method.micro_batch


@pytest.mark.parametrize(
    "prompts,seeds,spec,match",
    [
        ([], [], GenerationSpec(), "prompts is empty"),
        ([PROMPT], [1, 2], GenerationSpec(), "prompts and seeds differ"),
        ([PROMPT], [1], GenerationSpec(resolution=48), "spec.resolution 48"),
        ([PROMPT], [1], GenerationSpec(frames=8), "spec.frames 8"),
    ],
)
def test_bad_input_names_the_argument(method, prompts, seeds, spec, match):
    with pytest.raises(ValueError, match=match):
        method.generate(prompts, seeds, spec)


def test_missing_checkpoint_names_path_and_train_command(tmp_path):
    m = BaselineMethod(weights=tmp_path / "absent")
    with pytest.raises(CheckpointError, match=r"absent.*python -m vbench_lite train --method baseline"):
        m.load()


def test_tampered_checkpoint_is_refused(tiny_weights, tmp_path):
    shutil.copytree(tiny_weights / "model", tmp_path / "model")
    f = tmp_path / "model" / "model.safetensors"
    blob = bytearray(f.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    f.write_bytes(bytes(blob))
    m = BaselineMethod(weights=tmp_path / "model", autoencoder=tiny_weights / "ae")
    with pytest.raises(CheckpointError, match="SHA-256.*refusing"):
        m.load()


def test_generate_before_load_is_an_error(tiny_weights):
    with pytest.raises(RuntimeError, match="not loaded"):
        BaselineMethod().generate([PROMPT], [1], GenerationSpec())


def test_shipped_weights_are_package_data_and_load():
    for folder in (WEIGHTS_DIR, AE_WEIGHTS):
        assert (folder / "manifest.json").is_file(), f"{folder} must ship with the package"
    size = sum(p.stat().st_size for p in WEIGHTS_DIR.iterdir())
    assert size < 8 * 2**20
    assert (WEIGHTS_DIR / "TRAINING.md").is_file()
    m = BaselineMethod()
    m.load("cpu")
    d = m.describe()
    assert d["steps"] == 30 and d["nfe"] == 60 and d["sampler"] == "euler"
    assert d["training"]["command"].startswith("python -m vbench_lite train --method baseline")


def test_train_cli_rejects_a_method_without_train(capsys):
    from vbench_lite.cli import main

    assert main(["train", "--method", "no-such-method"]) == 2
    assert "unknown method" in capsys.readouterr().err
