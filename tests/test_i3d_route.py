"""The real-FVD route through `run` and `evaluate`: `--detector i3d` with a TorchScript file of I3D's
call signature (StyleGAN-V's `detector(x, rescale=True, resize=True, return_features=True)`),
randomly initialised, saved and re-loaded through the real loading code (issue 21 item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vbench_lite.cli import main
from vbench_lite.fsutil import sha256_file
from vbench_lite.results import RunResult
from vbench_lite.suites.shapes import ShapesSuite
from vbench_lite.video import write_video


class TinyI3D(torch.nn.Module):
    """I3D's TorchScript interface on a tiny network: uint8 [B, 3, T, H, W] -> 400-d features.

    The real module resizes to 224x224; this one to 32x32 to stay fast (the harness never sees it)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 8, kernel_size=3, padding=1)
        self.head = torch.nn.Linear(8 * 4, 400)

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        x = x.float()
        if rescale:
            x = x / 255.0 * 2.0 - 1.0
        if resize:
            x = torch.nn.functional.interpolate(x, size=(x.shape[2], 32, 32), mode="trilinear", align_corners=False)
        h = torch.nn.functional.adaptive_avg_pool3d(torch.relu(self.conv(x)), (4, 1, 1)).flatten(1)
        feats = self.head(h)
        return feats if return_features else torch.softmax(feats, dim=1)


@pytest.fixture(autouse=True)
def _few_bootstrap_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 FVD bootstrap resamples of 400-d features cost 200 eigendecompositions (minutes on a
    shared 2-core machine); the route under test is the same with 2."""
    from vbench_lite.metrics import distribution

    monkeypatch.setattr(distribution, "BOOTSTRAP_RESAMPLES", 2)


@pytest.fixture(scope="module")
def i3d_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("i3d") / "i3d_torchscript.pt"
    torch.jit.script(TinyI3D().eval()).save(str(path))
    return path


def _check_fvd(result: RunResult, weights: Path) -> None:
    for name in ("fvd", "kvd"):
        m = result.metrics[name]
        assert m.protocol["detector"] == "i3d" and m.protocol["feature_dim"] == 400
        assert m.protocol["weights_sha256"] == sha256_file(weights)
        assert m.protocol["num_reference"] == 24
        assert m.value is not None and m.value == m.value  # a number, not NaN


def test_run_with_the_i3d_torchscript(i3d_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "--method", "toy", "--metrics", "fvd,kvd", "--num-videos", "8", "--no-profile",
            "--detector", "i3d", "--detector-weights", str(i3d_file), "--reference-num", "24",
            "--out", str(tmp_path), "--json"]
    assert main(args) == 0, capsys.readouterr().err
    _check_fvd(RunResult.from_dict(json.loads(capsys.readouterr().out)), i3d_file)


def test_evaluate_with_the_i3d_torchscript(i3d_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = ShapesSuite()
    items = suite.items("eval", 6)
    for i, v in enumerate(suite.render(items, frames=20)):
        write_video(tmp_path / "vids" / f"{i:04d}.mp4", v)
    args = ["evaluate", "--videos", str(tmp_path / "vids"), "--metrics", "fvd,kvd", "--frames", "16",
            "--frame-sampling", "middle", "--detector", "i3d", "--detector-weights", str(i3d_file),
            "--reference-num", "24", "--out", str(tmp_path / "runs"), "--json"]
    assert main(args) == 0, capsys.readouterr().err
    r = RunResult.from_dict(json.loads(capsys.readouterr().out))
    _check_fvd(r, i3d_file)
    assert r.spec["frames"] == 16 and r.spec["frame_sampling"] == "middle"


def test_torchscript_given_to_the_shapes_detector_names_the_fix(i3d_file: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Without --detector the shapes suite's detector read the TorchScript as safetensors (traceback)."""
    args = ["run", "--method", "toy", "--metrics", "fvd", "--num-videos", "4", "--no-profile",
            "--detector-weights", str(i3d_file), "--out", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "not a readable safetensors file" in err and "--detector i3d" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


class NotI3D(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float().mean(dim=(2, 3, 4)).repeat(1, 134)[:, :400]


def test_another_torchscript_network_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.pt"
    torch.jit.script(NotI3D()).save(str(path))
    args = ["run", "--method", "toy", "--metrics", "fvd", "--num-videos", "4", "--no-profile", "--detector", "i3d",
            "--detector-weights", str(path), "--reference-num", "8", "--out", str(tmp_path / "runs")]
    assert main(args) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "cannot be called as StyleGAN-V's I3D" in errors[0] and "other.pt" in errors[0]
    assert not (tmp_path / "runs").exists()
