"""The generic backbone adapter and the shared recipe: a checkpoint's sampler and generation size
come from its config; NFE equals the denoiser evaluations counted by a wrapper; parameters are
those of the modules that run; ``train_flow_method`` trains, exports and loads back."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
import torch

from vbench_lite.methods.backbone.adapter import BackboneMethod
from vbench_lite.methods.backbone.autoencoder import load_autoencoder
from vbench_lite.methods.backbone.model import save_model
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.backbone.tiny import save_checkpoint_pair, tiny_model
from vbench_lite.spec import GenerationSpec

PROMPTS = ["a red circle moving left slowly on a black background", "a blue square standing still on a gray background"]
FEW_STEP = FlowSampler(times=(1.0, 0.75, 0.5, 0.25, 0.0), cfg_scale=1.0)  # 4 fixed timesteps without CFG


class Checkpoint(BackboneMethod):
    name: ClassVar[str] = "test-checkpoint"


def _write(root: Path, sampler: dict, generation: dict | None = None) -> Path:
    return save_checkpoint_pair(root, tiny_model(), sampler, generation)


def _load(root: Path, **kw) -> Checkpoint:  # type: ignore[no-untyped-def]
    m = Checkpoint(weights=root / "model", autoencoder=root / "ae", **kw)
    m.micro_batch = 2
    m.load("cpu")
    return m


def _count_rows(method: Checkpoint) -> list[int]:
    rows: list[int] = []
    method.generator.model.unet.register_forward_pre_hook(lambda mod, args: rows.append(args[0].shape[0]))
    return rows


@pytest.mark.parametrize("sampler", [FEW_STEP, FlowSampler.uniform(3, solver="heun", cfg_scale=3.0)])
def test_nfe_equals_the_denoiser_evaluations_counted_by_a_wrapper(tmp_path, sampler) -> None:  # type: ignore[no-untyped-def]
    m = _load(_write(tmp_path, sampler.to_config(), {"frames": 8, "resolution": 24}))
    rows = _count_rows(m)
    video = m.generate(PROMPTS, [1, 2], GenerationSpec(frames=8, resolution=24))
    assert video.shape == (2, 8, 3, 24, 24)
    d = m.describe()
    assert d["nfe"] == sampler.nfe == sum(rows) // m.micro_batch  # rows per video: 2 with CFG
    assert d["times"] == list(sampler.times) and d["frames"] == 8 and d["resolution"] == 24


def test_generation_size_comes_from_the_checkpoint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    m = _load(_write(tmp_path, FEW_STEP.to_config(), {"frames": 8, "resolution": 24}))
    with pytest.raises(ValueError, match="spec.frames 16 is not supported by test-checkpoint; use 8"):
        m.generate(PROMPTS, [1, 2], GenerationSpec(frames=16, resolution=24))
    with pytest.raises(ValueError, match="spec.resolution 32 .* use 24"):
        m.generate(PROMPTS, [1, 2], GenerationSpec(frames=8, resolution=32))


def test_params_are_those_of_the_modules_that_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = _write(tmp_path, FEW_STEP.to_config())
    full = _load(root).describe()
    skip = ("down.1.temporal.0", "mid.res.1")
    skipped = _load(root, skip=skip)
    unet = skipped.generator.model.unet
    removed = sum(p.numel() for n in skip for p in unet.get_submodule(n).parameters())
    d = skipped.describe()
    assert removed > 0 and d["params"] == full["params"] - removed
    assert d["params_breakdown"]["unet"] == full["params_breakdown"]["unet"] - removed and d["skip"] == list(skip)
    rows = _count_rows(skipped)
    skipped.generate(PROMPTS[:1], [3], GenerationSpec())
    assert len(rows) == FEW_STEP.steps
    module, inputs = skipped.denoiser()  # the profiled example call skips the same blocks
    with torch.no_grad():
        assert torch.equal(module(*inputs), module(*inputs, skip=skip))
        module.skipped = set()
        assert not torch.equal(module(*inputs), module(*inputs, skip=skip))


def test_a_checkpoint_without_a_sampler_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite.methods.backbone.checkpoint import CheckpointError

    root = _write(tmp_path, FEW_STEP.to_config())
    ae_sha = load_autoencoder(root / "ae")[1]
    save_model(root / "model", tiny_model(), {"autoencoder_sha256": ae_sha})
    with pytest.raises(CheckpointError, match="no sampler"):
        _load(root)


def test_train_flow_method_trains_exports_and_loads_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite.methods.backbone.flow_task import FlowMatchingTask, FlowRecipe
    from vbench_lite.methods.backbone.recipe import train_flow_method
    from vbench_lite.methods.backbone.tiny import tiny_unet_config

    root = _write(tmp_path, FEW_STEP.to_config())
    unet = tiny_unet_config(text_dim=64)
    summary = train_flow_method(
        "tiny", FlowMatchingTask, out=tmp_path / "out", command="train tiny", steps=2, num_clips=8,
        run_dir=tmp_path / "run", unet=unet, recipe=FlowRecipe(batch_size=2), sampler=FEW_STEP,
        autoencoder_dir=root / "ae", checkpoint_every=1,
    )
    assert summary["steps"] == 2 and (tmp_path / "out" / "TRAINING.md").is_file()
    m = Checkpoint(weights=tmp_path / "out", autoencoder=root / "ae")
    m.load("cpu")
    d = m.describe()
    assert d["nfe"] == 4 and d["frames"] == 16 and d["resolution"] == 32
    assert d["training"]["command"] == "train tiny" and torch.is_tensor(m.generate(PROMPTS[:1], [0], GenerationSpec()))
