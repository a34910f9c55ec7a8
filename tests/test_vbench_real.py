"""Real-protocol backbones (DINO ViT-B/16, RAFT) with random weights saved and re-loaded through
the same loading code a user's weight files go through."""

from __future__ import annotations

import pytest
import torch

from vbench_lite.metrics.vbench import dynamic_degree, subject_consistency
from vbench_lite.metrics.vbench.backbones import DinoFeatures, RaftFlow

pytestmark = pytest.mark.slow  # ViT-B/16 and RAFT-large: tens of seconds on 2 shared cores


def _video(frames: int = 4, h: int = 40, w: int = 56) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (frames, 3, h, w), generator=g, dtype=torch.uint8)


def test_dino_random_weights_round_trip(tmp_path) -> None:
    import timm

    torch.manual_seed(0)
    model = timm.create_model("vit_base_patch16_224.dino", pretrained=False, num_classes=0,
                              dynamic_img_size=True).eval()
    path = tmp_path / "dino_vitb16.pth"
    torch.save(model.state_dict(), path)
    feats = DinoFeatures(path)
    assert feats.preprocess(_video()).shape[-2:] == (224, 304)  # shortest side 224; 313 -> 19 patches
    video = _video(4, 48, 48)  # the native 14x14 grid: timm's and DINO's position embeddings agree
    with torch.no_grad():
        expected = model(feats.preprocess(video))
    assert torch.allclose(feats(video), expected, atol=1e-5)
    static = video[:1].repeat(3, 1, 1, 1)
    assert subject_consistency(static, feats) == pytest.approx(1.0, abs=1e-6)


def test_raft_random_weights_round_trip(tmp_path) -> None:
    from torchvision.models.optical_flow import raft_large

    torch.manual_seed(0)
    model = raft_large(weights=None, progress=False).eval()
    path = tmp_path / "raft_large.pth"
    torch.save(model.state_dict(), path)
    flow = RaftFlow(path, updates=2)
    video = _video(3, 130, 140)  # not a multiple of 8: padded, and the padded flow is scored (VBench)
    out = flow(video[:-1], video[1:])
    assert out.shape == (2, 2, 136, 144)
    assert dynamic_degree(video, flow) in (0.0, 1.0)
    small = flow(video[:1, :, :64, :72], video[1:2, :, :64, :72])  # VBench's RAFT: NaN (a 1 px level)
    assert small.shape == (1, 2, 64, 72) and torch.isnan(small).all()
    assert dynamic_degree(video[:, :, :64, :72], flow) == 0.0  # every pair static, as in VBench
    with pytest.raises(ValueError, match="at least 64 px"):
        flow(video[:1, :, :56, :64], video[1:2, :, :56, :64])
    with pytest.raises(FileNotFoundError, match="--raft-weights"):
        RaftFlow(tmp_path / "missing.pth")
