"""VBench's real protocol from the command line (issue 26): ``evaluate --vbench-protocol real`` with
DINO ViT-B/16, CLIP ViT-B/32 and RAFT weight files of random initialisation, saved by the test and
read back through the same loading code a user's downloaded files go through."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vbench_lite.cli import main
from vbench_lite.fsutil import sha256_file
from vbench_lite.video import write_video

SIZE = 64  # under RAFT's 128 px: VBench pads to a multiple of 8 and runs it anyway


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import open_clip
    import timm
    from torchvision.models.optical_flow import raft_large

    root = tmp_path_factory.mktemp("real_weights")
    torch.manual_seed(0)
    nets = {
        "dino": timm.create_model("vit_base_patch16_224.dino", pretrained=False, num_classes=0),
        "clip": open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True),
        "raft": raft_large(weights=None, progress=False),
    }
    paths = {}
    for name, net in nets.items():
        paths[name] = root / f"{name}.pth"
        torch.save(net.state_dict(), paths[name])
    return paths


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real_videos")
    g = torch.Generator().manual_seed(1)
    base = torch.randint(0, 256, (1, 3, SIZE, SIZE), generator=g, dtype=torch.uint8)
    moving = torch.stack([base[0].roll(4 * t, dims=-1) for t in range(4)])  # 4 px per frame to the right
    still = base.repeat(4, 1, 1, 1)
    write_video(root / "moving.mp4", moving, fps=8)
    write_video(root / "still.mp4", still, fps=8)
    prompts = root / "prompts.json"
    prompts.write_text(json.dumps({"moving.mp4": "a pattern moving right", "still.mp4": "a still pattern"}))
    return root


def _evaluate(folder: Path, out: Path, *extra: str) -> dict:
    argv = ["evaluate", "--videos", str(folder), "--prompts", str(folder / "prompts.json"), "--suite", "none",
            "--metrics", "vbench", "--out", str(out), "--json", *extra]
    assert main(argv) == 0
    (results,) = out.glob("*/*/*/results.json")
    return json.loads(results.read_text())


def test_evaluate_real_protocol_from_the_command_line(folder, weights, tmp_path, capsys) -> None:
    res = _evaluate(folder, tmp_path / "runs", "--vbench-protocol", "real", "--dino-weights", str(weights["dino"]),
                    "--raft-weights", str(weights["raft"]), "--clip-weights", str(weights["clip"]))
    capsys.readouterr()
    m = res["metrics"]
    sub, bg, dyn = m["vbench_subject_consistency"], m["vbench_background_consistency"], m["vbench_dynamic_degree"]
    assert sub["protocol"]["vbench_protocol"] == "real"
    assert sub["protocol"]["backbone"] == "dino-vit-b-16"
    assert sub["protocol"]["weights_sha256"] == sha256_file(weights["dino"])
    assert bg["protocol"]["backbone"] == "vit-b-32"
    assert bg["protocol"]["weights_sha256"] == sha256_file(weights["clip"])
    assert dyn["protocol"]["flow"] == "raft-large"
    assert dyn["protocol"]["weights_sha256"] == sha256_file(weights["raft"])
    assert m["vbench_overall_consistency"]["protocol"]["backbone"] == "vit-b-32"
    # the numbers are the real backbones' on the decoded videos, not the embedded ones'
    from vbench_lite.metrics.vbench import subject_consistency
    from vbench_lite.metrics.vbench.backbones import DinoFeatures
    from vbench_lite.video import read_video

    dino = DinoFeatures(weights["dino"])
    expected = np.mean([subject_consistency(read_video(folder / f), dino) for f in ("moving.mp4", "still.mp4")])
    assert sub["value"] == pytest.approx(expected, abs=1e-6)
    assert 0.0 <= bg["value"] <= 1.0 and dyn["value"] in (0.0, 0.5, 1.0)
    # the embedded protocol on the same folder is another protocol, with other backbones
    emb = _evaluate(folder, tmp_path / "embedded")["metrics"]["vbench_subject_consistency"]["protocol"]
    assert emb["vbench_protocol"] == "embedded" and emb["backbone"] != "dino-vit-b-16"


def test_evaluate_real_protocol_with_amt_s(folder, weights, tmp_path, capsys) -> None:
    pytest.importorskip("vbench.third_party.amt.networks", reason="AMT-S's network code comes from vbench")
    from vbench_lite.metrics.vbench.backbones import build_amt_s

    torch.manual_seed(0)
    amt = tmp_path / "amt-s.pth"
    torch.save({"state_dict": build_amt_s().state_dict()}, amt)
    res = _evaluate(folder, tmp_path / "runs", "--vbench-protocol", "real", "--dino-weights", str(weights["dino"]),
                    "--raft-weights", str(weights["raft"]), "--clip-weights", str(weights["clip"]),
                    "--amt-weights", str(amt))
    capsys.readouterr()
    smooth = res["metrics"]["vbench_motion_smoothness"]["protocol"]
    assert smooth["backbone"] == "amt-s" and smooth["weights_sha256"] == sha256_file(amt)


def test_raft_on_small_frames_as_vbench_and_each_frame_encoded_once(weights) -> None:
    """RAFT runs down to 64 px (padded to a multiple of 8) as VBench's vendored RAFT does; under
    128 px the 1 px coarsest level makes the flow NaN in both, so every pair is static; the
    consecutive-frame path (each frame encoded once) gives the pairwise flow bit for bit."""
    from vbench_lite.metrics.vbench import dynamic_degree
    from vbench_lite.metrics.vbench.backbones import RaftFlow

    flow = RaftFlow(weights["raft"], updates=3)
    g = torch.Generator().manual_seed(2)
    base = torch.randint(0, 256, (3, 130, 140), generator=g, dtype=torch.uint8)
    video = torch.stack([base.roll(3 * t, -1) for t in range(4)])
    pairwise = flow(video[:-1], video[1:])
    assert pairwise.shape == (3, 2, 136, 144) and torch.isfinite(pairwise).all()
    assert torch.equal(flow.consecutive(video), pairwise)
    small = flow.consecutive(video[..., :64, :72])
    assert small.shape == (3, 2, 64, 72) and torch.isnan(small).all()
    assert dynamic_degree(video[..., :64, :72], flow) == 0.0
    with pytest.raises(ValueError, match="at least 64 px"):
        flow(video[:1, :, :56, :64], video[1:2, :, :56, :64])
