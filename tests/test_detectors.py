"""Detector contract: shapes-video (random weights saved and re-loaded through the real loader)
and i3d (a TorchScript module with StyleGAN-V's call signature, built here)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from vbench_lite.metrics.detectors import FeatureDetector, load_detector
from vbench_lite.metrics.detectors.shapes_video import ShapesVideoNet
from vbench_lite.suites.shapes import ShapesSuite
from vbench_lite.suites.shapes.vocab import ATTRIBUTE_CLASSES

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")


@pytest.fixture(scope="module")
def videos() -> torch.Tensor:
    suite = ShapesSuite()
    return suite.render(suite.items("validation", 37))


@pytest.fixture(scope="module")
def shapes_weights(tmp_path_factory) -> str:
    torch.manual_seed(0)
    net = ShapesVideoNet()
    path = tmp_path_factory.mktemp("w") / "shapes_video.safetensors"
    save_file({k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}, str(path))
    return str(path)


def test_shapes_video_contract(videos, shapes_weights):
    det = load_detector("shapes-video", weights=shapes_weights)
    assert isinstance(det, FeatureDetector)
    feats = det.features(videos)
    assert feats.shape == (37, 128) and feats.dtype == torch.float32
    proto = det.protocol()
    assert proto["detector"] == "shapes-video" and len(proto["weights_sha256"]) == 64
    assert proto["frames"] == 16 and "resize" in proto["preprocessing"]


def test_shapes_video_features_do_not_depend_on_batching(videos, shapes_weights):
    det = load_detector("shapes-video", weights=shapes_weights)
    whole = det.features(videos)
    pieces = torch.cat([det.features(videos[i : i + 5]) for i in range(0, len(videos), 5)])
    assert torch.equal(whole, pieces)
    assert torch.equal(det.features(videos[7:8]), whole[7:8])
    assert torch.equal(det.features(videos), whole)  # deterministic


def test_shapes_video_attribute_heads(videos, shapes_weights):
    det = load_detector("shapes-video", weights=shapes_weights)
    logits = det.attribute_logits(videos[:6])
    preds = det.predict_attributes(videos[:6])
    assert list(preds) == list(ATTRIBUTE_CLASSES)
    for key, classes in ATTRIBUTE_CLASSES.items():
        assert logits[key].shape == (6, len(classes))
        assert preds[key].dtype == torch.long and preds[key].shape == (6,)
        assert torch.equal(preds[key], logits[key].argmax(1))


def test_shapes_video_resizes_other_resolutions(shapes_weights):
    suite = ShapesSuite()
    v48 = suite.render(suite.items("validation", 3), resolution=48)
    assert load_detector("shapes-video", weights=shapes_weights).features(v48).shape == (3, 128)


def test_wrong_frame_count_is_a_clear_error(videos, shapes_weights):
    det = load_detector("shapes-video", weights=shapes_weights)
    with pytest.raises(ValueError, match="expects 16 frames per video, got 8"):
        det.features(videos[:, :8])
    with pytest.raises(ValueError, match="uint8"):
        det.features(videos.float())


def test_missing_shapes_weights_names_file_and_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.safetensors.*vbench_lite train --detector shapes-video"):
        load_detector("shapes-video", weights=tmp_path / "missing.safetensors")


def test_unknown_detector_suggests_names():
    with pytest.raises(KeyError, match="Did you mean 'i3d'"):
        load_detector("i3e")


class FakeI3D(torch.nn.Module):
    """Same call signature and conventions as StyleGAN-V's i3d_torchscript.pt (tiny network)."""

    def __init__(self, out_dim: int = 400):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 8, 3, stride=(2, 8, 8))
        self.fc = torch.nn.Linear(8, out_dim)

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        assert x.dtype == torch.uint8, "expects uint8 clips"
        assert x.shape[1] == 3, "expects [B, C, T, H, W]"
        assert rescale and resize and return_features, "called as StyleGAN-V does"
        h = x.float() / 255.0 * 2.0 - 1.0
        h = F.interpolate(h, size=(x.shape[2], 224, 224), mode="trilinear", align_corners=False)
        return self.fc(self.conv(h).mean(dim=(2, 3, 4)))


def _script(tmp_path, out_dim=400):
    torch.manual_seed(0)
    path = tmp_path / "i3d_torchscript.pt"
    torch.jit.script(FakeI3D(out_dim)).save(str(path))
    return path


def test_i3d_loads_torchscript_and_calls_it_like_stylegan_v(tmp_path, videos, monkeypatch):
    path = _script(tmp_path)
    det = load_detector("i3d", weights=path)
    feats = det.features(videos[:20])
    assert feats.shape == (20, 400)
    assert torch.equal(det.features(videos[:5]), feats[:5])
    assert det.protocol()["weights_sha256"] and "rescale=True" in det.protocol()["preprocessing"]
    monkeypatch.setenv("VBENCH_LITE_WEIGHTS", str(tmp_path))
    assert torch.equal(load_detector("i3d").features(videos[:5]), feats[:5])


def test_i3d_errors(tmp_path, monkeypatch, videos):
    monkeypatch.delenv("VBENCH_LITE_WEIGHTS", raising=False)
    with pytest.raises(FileNotFoundError, match="i3d_torchscript.pt.*VBENCH_LITE_WEIGHTS"):
        load_detector("i3d")
    monkeypatch.setenv("VBENCH_LITE_WEIGHTS", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"nowhere/i3d_torchscript\.pt"):
        load_detector("i3d")
    det = load_detector("i3d", weights=_script(tmp_path, out_dim=10))
    with pytest.raises(ValueError, match=r"expected \[B, 400\]"):
        det.features(videos[:2])
    with pytest.raises(ValueError, match="expects 16 frames"):
        det.features(videos[:2, :12])
