"""vbench_lite against the reference implementations' numbers, pinned on synthetic inputs.

``tests/pinned/reference_values.json`` was written by ``scripts/pin_reference_values.py`` with
VBench 0.1.5, torch-fidelity, cd-fvd and DINO's own ViT installed (see its docstring for how to
regenerate); here vbench_lite recomputes each number on the same videos and random-init weights
(``tests/pinned/inputs.py``), loading the weights through the real loading code, and must agree
within the tolerance recorded beside each number. No peer package is needed, except the optional
``vbench`` package for AMT-S's network code (that one test is skipped without it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.pinned import inputs
from vbench_lite import video as V
from vbench_lite.metrics.frechet import frechet_distance_from_features
from vbench_lite.metrics.kernel import kernel_distance
from vbench_lite.metrics.vbench import (
    background_consistency,
    dynamic_degree,
    motion_smoothness,
    subject_consistency,
    temporal_flickering,
)
from vbench_lite.metrics.vbench.quality import sample_8fps, top5_flow_magnitude

PINS = json.loads((Path(__file__).parent / "pinned" / "reference_values.json").read_text())


@pytest.fixture(scope="module")
def videos() -> dict[str, torch.Tensor]:
    vids = inputs.videos()
    for name, v in vids.items():  # the same inputs the reference numbers were computed on
        assert inputs.content_sha256(v) == PINS["inputs_sha256"][name], (
            f"synthetic video {name!r} differs from the pinned one; regenerate with {PINS['regenerate']}")
    return vids


def _weights_file(tmp_path: Path, model: torch.nn.Module, seed: int, pin: dict) -> Path:
    sd = inputs.random_state_dict(model, seed)
    assert inputs.content_sha256(sd) == pin["weights_sha256"], (
        f"random-init weights differ from the pinned ones; regenerate with {PINS['regenerate']}")
    path = tmp_path / "weights.pth"
    torch.save(sd, path)
    return path


def test_middle_frame_indices_equal_vbenchs_in_all_2048_cases() -> None:
    pin = PINS["frame_indices_middle"]
    for key, expected in pin["examples"].items():
        n, k = map(int, key.split(","))
        assert V.frame_indices(n, k, "middle") == expected, key
    ours = [V.frame_indices(n, k, "middle") for n, k in inputs.frame_index_cases()]
    assert inputs.index_lists_sha256(ours) == pin["sha256"]


def test_temporal_flickering(videos) -> None:
    pin = PINS["temporal_flickering"]
    assert temporal_flickering(videos["consistency"]) == pytest.approx(pin["value"], abs=pin["tolerance"])


def test_subject_consistency_dino(videos, tmp_path) -> None:
    import timm

    from vbench_lite.metrics.vbench.backbones import DinoFeatures

    pin = PINS["subject_consistency"]
    model = timm.create_model("vit_base_patch16_224.dino", pretrained=False, num_classes=0)
    feats = DinoFeatures(_weights_file(tmp_path, model, inputs.SEED, pin))
    assert subject_consistency(videos["consistency"], feats) == pytest.approx(pin["value"], abs=pin["tolerance"])


@pytest.fixture(scope="module")
def vit_b_32(tmp_path_factory):
    import open_clip

    from vbench_lite.metrics.clip_models import load_vit_b_32

    model = open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True)
    path = _weights_file(tmp_path_factory.mktemp("clip"), model, inputs.SEED + 10, PINS["background_consistency"])
    return load_vit_b_32(path)


def test_background_consistency_clip(videos, vit_b_32) -> None:
    from vbench_lite.metrics.vbench.backbones import ClipFrameFeatures

    pin = PINS["background_consistency"]
    value = background_consistency(videos["consistency"], ClipFrameFeatures(vit_b_32, "full"))
    assert value == pytest.approx(pin["value"], abs=pin["tolerance"])


def test_clipsim_and_clipscore(videos, vit_b_32) -> None:
    from vbench_lite.metrics.clipsim import clipsim

    pin = PINS["clipsim"]
    value = clipsim(videos["consistency"], pin["prompt"], vit_b_32)
    assert value == pytest.approx(pin["clipsim"], abs=pin["tolerance"])
    assert max(100 * value, 0.0) == pytest.approx(pin["clipscore"], abs=100 * pin["tolerance"])


def test_dynamic_degree_raft(videos, tmp_path) -> None:
    from torchvision.models.optical_flow import raft_large

    from vbench_lite.metrics.vbench.backbones import RaftFlow

    pin = PINS["dynamic_degree"]
    flow = RaftFlow(_weights_file(tmp_path, raft_large(weights=None, progress=False), inputs.SEED + 20, pin))
    frames = sample_8fps(videos["motion"], 8.0)
    scores = top5_flow_magnitude(flow(frames[:-1], frames[1:])).numpy()
    np.testing.assert_allclose(scores, pin["pair_scores"], rtol=pin["tolerance"], atol=0)
    assert dynamic_degree(videos["motion"], flow, fps=8.0) == pin["value"]


def test_motion_smoothness_amt_s(videos, tmp_path) -> None:
    pytest.importorskip("vbench", reason="AMT-S's network code comes from the optional vbench package")
    from vbench_lite.metrics.vbench.backbones import AmtInterpolator, build_amt_s

    pin = PINS["motion_smoothness"]
    amt = AmtInterpolator(_weights_file(tmp_path, build_amt_s(), inputs.SEED + 30, pin))
    assert motion_smoothness(videos["motion"], amt) == pytest.approx(pin["value"], abs=pin["tolerance"])


@pytest.mark.parametrize("n", ["128", "400"])
def test_fvd_both_conventions_and_kvd(n: str) -> None:
    pin = PINS["distances"]
    ref = pin["values"][n]
    real, fake = inputs.features(1, int(n), 64), inputs.features(2, int(n), 64, shift=0.3)
    for convention, key in (("unbiased", "fvd_unbiased"), ("stylegan-v", "fvd_stylegan_v")):
        value = frechet_distance_from_features(real, fake, convention)
        assert value == pytest.approx(ref[key], rel=pin["tolerance"]["fvd"]), convention
    kvd, _ = kernel_distance(fake, real, subsets=1, subset_size=int(n), precision="float64")
    assert kvd == pytest.approx(ref["kvd_whole_set"], abs=pin["tolerance"]["kvd"])
    kvd32, _ = kernel_distance(fake, real, subsets=1, subset_size=int(n))  # the default: float32 products
    assert kvd32 == pytest.approx(ref["kvd_whole_set"], rel=1e-8)
