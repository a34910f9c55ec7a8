from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vbench_lite import video as V
from vbench_lite.suites.shapes import ShapesSuite


def _videos(n: int = 2) -> torch.Tensor:
    s = ShapesSuite()
    return s.render(s.items("eval", n))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (torch.zeros(2, 3, 8, 8, dtype=torch.uint8), "rank 5"),
        (torch.zeros(1, 2, 3, 8, 8), "must be uint8"),
        (torch.zeros(1, 2, 4, 8, 8, dtype=torch.uint8), "3 RGB channels"),
        (torch.zeros(1, 0, 3, 8, 8, dtype=torch.uint8), "empty"),
        (torch.full((1, 2, 3, 8, 8), float("nan")), "NaN"),
        ("not a tensor", "torch.Tensor"),
    ],
)
def test_validate_errors(bad, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        V.validate(bad)


def test_validate_single() -> None:
    v = torch.zeros(4, 3, 8, 8, dtype=torch.uint8)
    assert V.validate(v, single=True) is v
    with pytest.raises(ValueError, match=r"rank 4 \[T, C, H, W\]"):
        V.validate(v[None], single=True)


def test_lossless_mp4_round_trip_16_videos(tmp_path: Path) -> None:
    vids = _videos(16)
    for i, v in enumerate(vids):
        V.write_video(tmp_path / f"{i}.mp4", v, mode="lossless")
    back = torch.stack([V.read_video(tmp_path / f"{i}.mp4") for i in range(16)])
    assert back.dtype == torch.uint8 and back.shape == vids.shape
    assert torch.equal(back, vids)


def test_lossless_mkv_ffv1_round_trip(tmp_path: Path) -> None:
    v = _videos(1)[0]
    V.write_video(tmp_path / "a.mkv", v, mode="lossless")
    assert torch.equal(V.read_video(tmp_path / "a.mkv"), v)


def test_lossy_mp4_is_close_but_smaller(tmp_path: Path) -> None:
    v = _videos(1)[0]
    V.write_video(tmp_path / "lossless.mp4", v, mode="lossless")
    V.write_video(tmp_path / "lossy.mp4", v, mode="lossy")
    back = V.read_video(tmp_path / "lossy.mp4")
    assert back.shape == v.shape
    assert (back.float() - v.float()).abs().mean() < 12
    assert (tmp_path / "lossy.mp4").stat().st_size < (tmp_path / "lossless.mp4").stat().st_size


def test_gif_and_png_previews(tmp_path: Path) -> None:
    v = _videos(1)[0]
    V.write_video(tmp_path / "a.gif", v)
    g = V.read_video(tmp_path / "a.gif")
    assert g.shape == v.shape
    p = V.write_png(tmp_path / "a.png", v, max_frames=4)
    from PIL import Image

    assert Image.open(p).size == (4 * 32, 32)


def test_frame_sampling(tmp_path: Path) -> None:
    v = _videos(1)[0]
    V.write_video(tmp_path / "a.mp4", v)
    assert torch.equal(V.read_video(tmp_path / "a.mp4", num_frames=4, sampling="first"), v[:4])
    mid = V.read_video(tmp_path / "a.mp4", num_frames=4, sampling="middle")
    assert torch.equal(mid, v[[1, 5, 9, 13]])  # VBench: (a + b - 1) // 2 of each of 4 segments of 16 frames
    assert V.frame_indices(16, 8, "middle") == [0, 2, 4, 6, 8, 10, 12, 14]


@pytest.mark.parametrize("kind", ["missing", "empty", "corrupt"])
def test_bad_files_name_the_file(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "bad.mp4"
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "corrupt":
        p.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 10)
    with pytest.raises(V.VideoReadError, match="bad.mp4"):
        V.read_video(p)


def test_resize_keeps_dtype_and_shape() -> None:
    v = _videos(2)
    r = V.resize(v, 24)
    assert r.shape == (2, 16, 3, 24, 24) and r.dtype == torch.uint8
    assert V.resize(v, 32) is v


def test_from_float_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        V.from_float(torch.tensor([float("nan")]))
    assert V.from_float(torch.tensor([-1.0, 0.0, 1.0, 2.0])).tolist() == [0, 128, 255, 255]


@pytest.mark.parametrize(("suffix", "mode"), [(".mp4", "lossless"), (".mp4", "lossy"), (".mkv", "lossless")])
def test_opencv_and_decord_decode_the_same_bytes(tmp_path, suffix, mode) -> None:
    """read_video decodes with OpenCV (faster); decord, the fallback and VBench's reader for most
    dimensions, must give the same RGB bytes, also after YUV 4:2:0 compression."""
    from vbench_lite.video import _read_decord, read_video, write_video

    g = torch.Generator().manual_seed(3)
    base = torch.randint(0, 256, (3, 40, 56), generator=g, dtype=torch.uint8)
    video = torch.stack([base.roll(2 * t, -1) for t in range(10)])
    path = write_video(tmp_path / f"v{suffix}", video, fps=8, mode=mode)
    ours = read_video(path)
    assert torch.equal(ours, _read_decord(path, None, "all"))
    if mode == "lossless":
        assert torch.equal(ours, video)
    assert torch.equal(read_video(path, num_frames=4, sampling="middle"), _read_decord(path, 4, "middle"))


def test_parallel_reading_keeps_order_and_names_the_broken_file(tmp_path) -> None:
    from vbench_lite.video import VideoReadError, read_videos_parallel, write_video

    vids = [torch.full((3, 3, 16, 16), 20 * i, dtype=torch.uint8) for i in range(5)]
    paths = [write_video(tmp_path / f"{i}.mp4", v) for i, v in enumerate(vids)]
    out = read_videos_parallel(paths, workers=3)
    assert all(torch.equal(a, b) for a, b in zip(out, vids))
    (tmp_path / "broken.mp4").write_bytes(b"not a video" * 10)
    with pytest.raises(VideoReadError, match="broken.mp4"):
        read_videos_parallel([*paths, tmp_path / "broken.mp4"], workers=2)
