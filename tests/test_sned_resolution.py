"""A SNED subnet at 24 or 48 px runs through the harness at its own size: the run generates at that
resolution, FVD/KVD compare with the suite's real videos rendered at that resolution, fidelity to
the (32 px) baseline is refused with the reason, and the paired timing runs the reference at its own size."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.recipe import UNET
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.backbone.tiny import randomize, save_checkpoint_pair
from vbench_lite.methods.sned import SNEDMethod
from vbench_lite.spec import GenerationSpec


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = randomize(VideoDiffusion(UNET), seed=1, std=0.1)
    return save_checkpoint_pair(tmp_path_factory.mktemp("sned-res"), model, FlowSampler(times=(1.0, 0.0)).to_config(),
                                {"frames": 16, "resolution": 32})


def _method(root: Path, variant: str) -> SNEDMethod:
    m = SNEDMethod(variant, weights=root / "model", autoencoder=root / "ae")
    m.micro_batch = 2
    return m


@pytest.mark.parametrize("variant", ["s-24", "m-48"])
def test_fvd_compares_with_real_videos_of_the_subnets_resolution(checkpoint, variant) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite import evaluate_method
    from vbench_lite.metrics.distribution import FVDConfig, KVDConfig

    res = int(variant.split("-")[1])
    result = evaluate_method(_method(checkpoint, variant), num_videos=2, metrics=("fvd", "kvd"),
                             metric_configs={"fvd": FVDConfig(reference_num=4), "kvd": KVDConfig(reference_num=4)})
    assert result.spec["generation"]["resolution"] == res
    for name in ("fvd", "kvd"):
        assert result.metrics[name].protocol["resolution"]["reference"] == res


def test_fidelity_to_a_baseline_of_another_size_is_refused(checkpoint) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite.pipeline.runner import run
    from vbench_lite.spec import ProfileOptions, RunSpec

    method = _method(checkpoint, "s-24")
    assert method.generation_spec() == GenerationSpec(resolution=24)
    spec = RunSpec(method="sned", variant="s-24", split="validation", num_videos=2, metrics=("fidelity",),
                   generation=method.generation_spec(), reference_method="baseline",
                   profile=ProfileOptions(enabled=False))
    with pytest.raises(ValueError, match="generates 24 px, baseline 32 px"):
        run(spec, adapter=method, progress=False)


def test_the_paired_reference_runs_at_its_own_size(checkpoint) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite.profile.method_profile import reference_generation

    ref = _method(checkpoint, "l-32")
    ref.load("cpu")
    assert reference_generation(ref, GenerationSpec(resolution=24)) == GenerationSpec(resolution=32)
    assert reference_generation(ref, GenerationSpec(resolution=32)) == GenerationSpec(resolution=32)
