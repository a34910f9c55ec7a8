"""The video tensor convention, validation, resizing, reading (OpenCV, decord) and writing (PyAV).

Convention everywhere in the harness: ``uint8`` tensors shaped ``[B, T, C, H, W]``, RGB, C = 3.
A single video is ``[T, C, H, W]``. Float conversions happen inside the metric or model that
needs them.

Writing modes:
- ``lossless``: libx264rgb at crf 0 in mp4 (RGB planes, no YUV conversion, so bit-exact);
- ``lossy``: libx264 yuv420p at crf 18, for compact previews;
- GIF and PNG (first frame) previews.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".gif", ".webm", ".avi", ".mkv", ".mov")


class VideoReadError(ValueError):
    """A video file that is missing, empty, corrupt or unreadable; the message names the file."""


def validate(video: torch.Tensor, *, name: str = "videos", single: bool = False) -> torch.Tensor:
    """Check the convention and return the tensor unchanged.

    ``single=True`` expects one video ``[T, C, H, W]``; otherwise a batch ``[B, T, C, H, W]``.
    """
    if not isinstance(video, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(video).__name__}")
    rank = 4 if single else 5
    layout = "[T, C, H, W]" if single else "[B, T, C, H, W]"
    if video.dim() != rank:
        raise ValueError(f"{name} must have rank {rank} {layout}, got shape {tuple(video.shape)}")
    if video.is_floating_point() and torch.isnan(video).any():
        raise ValueError(f"{name} contains NaN values")
    if video.dtype != torch.uint8:
        raise ValueError(
            f"{name} must be uint8 {layout} in 0..255, got dtype {video.dtype}; "
            "convert with vbench_lite.video.from_float()"
        )
    c_axis = rank - 3
    if video.shape[c_axis] != 3:
        raise ValueError(
            f"{name} must have 3 RGB channels at axis {c_axis} {layout}, got shape "
            f"{tuple(video.shape)}"
        )
    if video.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(video.shape)}")
    return video


def from_float(video: torch.Tensor, *, value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
    """Float video in ``value_range`` -> uint8 (round to nearest, clamp); NaN is an error."""
    if torch.isnan(video).any():
        raise ValueError("video contains NaN values; the generator diverged")
    lo, hi = value_range
    scaled = (video.float() - lo) / (hi - lo) * 255.0
    return scaled.round().clamp_(0, 255).to(torch.uint8)


def to_float(video: torch.Tensor, *, value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
    """uint8 -> float32 in ``value_range``."""
    lo, hi = value_range
    return video.float() / 255.0 * (hi - lo) + lo


def resize(video: torch.Tensor, size: int | tuple[int, int], *, mode: str = "bilinear") -> torch.Tensor:
    """Resize a uint8 video (single or batch) spatially; antialiased when shrinking."""
    single = video.dim() == 4
    batch = video.unsqueeze(0) if single else video
    validate(batch)
    b, t, c, h, w = batch.shape
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if hw == (h, w):
        return video
    flat = batch.reshape(b * t, c, h, w).float()
    antialias = mode in ("bilinear", "bicubic") and (hw[0] < h or hw[1] < w)
    out = torch.nn.functional.interpolate(flat, size=hw, mode=mode, antialias=antialias)
    out = out.round().clamp_(0, 255).to(torch.uint8).reshape(b, t, c, *hw)
    return out[0] if single else out


def frame_indices(num_total: int, num_frames: int | None, sampling: str) -> list[int]:
    """Indices of the frames to read.

    ``all``: every frame; ``first``: the first ``num_frames``; ``stride:K``: ``num_frames`` frames
    ``0, K, 2K, ...`` (StyleGAN-V's clips of a given frame distance); ``middle``: VBench's
    ``utils.get_frame_indices(num_frames, num_total, sample='middle')``: the video is cut into
    ``min(num_frames, num_total)`` segments at the integer edges ``int(linspace(0, T, n + 1))``,
    segment [a, b) gives frame ``(a + b - 1) // 2``, and a video shorter than ``num_frames`` is
    padded with its last frame (so ``num_frames`` indices come back).
    """
    if num_total <= 0:
        raise ValueError("video has no frames")
    if sampling == "all" or num_frames is None:
        return list(range(num_total))
    if num_frames <= 0:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    if sampling.startswith("stride:"):  # StyleGAN-V's clips: num_frames frames, every K-th from the first
        k = sampling.partition(":")[2]
        if not k.isdigit() or int(k) < 1:
            raise ValueError(f"frame sampling {sampling!r}: the stride must be a positive integer, e.g. stride:2")
        step = int(k)
        if (num_frames - 1) * step >= num_total:
            raise ValueError(f"{num_frames} frames at stride {step} need {(num_frames - 1) * step + 1} frames; "
                             f"the video has {num_total}")
        return list(range(0, (num_frames - 1) * step + 1, step))
    if sampling == "first":
        if num_frames > num_total:
            raise ValueError(f"asked for the first {num_frames} frames of a {num_total}-frame video")
        return list(range(num_frames))
    if sampling == "middle":
        n = min(num_frames, num_total)
        edges = np.linspace(0, num_total, n + 1).astype(int)
        idx = [int(a + b - 1) // 2 for a, b in zip(edges[:-1], edges[1:])]
        if n < num_frames:
            logger.warning("a %d-frame video sampled to %d 'middle' frames: padded with its last frame, "
                           "as VBench's get_frame_indices does", num_total, num_frames)
        return idx + [idx[-1]] * (num_frames - n)
    raise ValueError(f"unknown frame sampling {sampling!r}; use 'all', 'first', 'middle' or 'stride:K'")


def read_video(
    path: str | os.PathLike[str],
    *,
    num_frames: int | None = None,
    sampling: str = "all",
    decoder_threads: int = 0,
) -> torch.Tensor:
    """Read one video -> uint8 ``[T, C, H, W]``; errors name the file.

    Decoded once, sequentially, with OpenCV's FFmpeg backend (VBench's own reader for temporal
    flickering and dynamic degree; 15-20% less CPU time than decord, which pays for a keyframe
    index it does not need here: ``benchmarks/real_protocol_speed.py``), then sampled; decord reads
    what OpenCV cannot open. Both give the same RGB bytes (``tests/test_video.py``).
    ``decoder_threads``: FFmpeg's own decoding threads (0: FFmpeg's choice, one per core);
    :func:`read_videos_parallel` decodes several files at once with one each."""
    p = Path(path)
    if not p.is_file():
        raise VideoReadError(f"video file not found: {p}")
    if p.stat().st_size == 0:
        raise VideoReadError(f"video file is empty: {p}")
    if p.suffix.lower() == ".gif":
        return _read_gif(p, num_frames, sampling)
    frames = _read_cv2(p, decoder_threads)
    if frames is None:
        return _read_decord(p, num_frames, sampling)
    try:
        idx = frame_indices(frames.shape[0], num_frames, sampling)
    except ValueError as exc:
        raise VideoReadError(f"cannot read video {p}: {exc}") from exc
    return frames if idx == list(range(frames.shape[0])) else frames[idx]


def _open_cv2(p: Path, decoder_threads: int) -> Any:
    import cv2

    prop = getattr(cv2, "CAP_PROP_N_THREADS", None)  # OpenCV >= 4.6
    if decoder_threads > 0 and prop is not None:
        cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG, [prop, decoder_threads])
        if cap.isOpened():
            return cap
        cap.release()
    return cv2.VideoCapture(str(p))


def _read_cv2(p: Path, decoder_threads: int = 0) -> torch.Tensor | None:
    """Every frame RGB ``[T, C, H, W]`` through OpenCV, or None if OpenCV cannot decode the file.

    Frames are decoded straight into one preallocated buffer (sized by the container's frame
    count, grown if that was short) and turned from BGR to RGB in place, so decoding costs OpenCV's
    own loop and one pass; the result is a channels-first view of that buffer (the harness stacks
    videos into batches, which makes them contiguous anyway)."""
    import cv2

    cap = _open_cv2(p, decoder_threads)
    try:
        if not cap.isOpened():
            return None
        n = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        h, w = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        buf = np.empty((n if h > 0 and w > 0 else 0, max(h, 1), max(w, 1), 3), dtype=np.uint8)
        k, extra = 0, []
        while True:
            target = buf[k] if k < buf.shape[0] else None
            ok, frame = cap.read(target) if target is not None else cap.read()  # releases the GIL
            if not ok:
                break
            if frame.ndim != 3 or frame.shape != (h, w, 3):
                return None  # an unusual stream: decord's reader decides
            if target is None:
                extra.append(frame)
            elif frame.ctypes.data != target.ctypes.data:
                target[...] = frame
            k += 1
    finally:
        cap.release()
    if k == 0:
        return None
    arr = buf[: min(k, buf.shape[0])]
    if extra:
        arr = np.concatenate([arr, np.stack(extra)])
    flat = arr.reshape(-1, w, 3)
    cv2.cvtColor(flat, cv2.COLOR_BGR2RGB, dst=flat)
    return torch.from_numpy(arr).permute(0, 3, 1, 2)


def read_videos_parallel(paths: Sequence[str | os.PathLike[str]], *, num_frames: int | None = None,
                         sampling: str = "all", workers: int | None = None) -> list[torch.Tensor]:
    """:func:`read_video` of every path, decoded by ``workers`` threads (default: torch's thread
    count), in order; the first unreadable file (in order) raises. With several workers each file
    gets one FFmpeg decoding thread: FFmpeg's default (a thread per core inside every decoder)
    oversubscribes the cores and cost ~30% more CPU time for the same bytes
    (``benchmarks/real_protocol_speed.py``, decode row)."""
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(len(paths), workers or torch.get_num_threads()))
    if workers == 1:
        return [read_video(q, num_frames=num_frames, sampling=sampling) for q in paths]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda q: read_video(q, num_frames=num_frames, sampling=sampling, decoder_threads=1),
                             paths))


def _read_decord(p: Path, num_frames: int | None, sampling: str) -> torch.Tensor:
    try:
        import decord

        reader = decord.VideoReader(str(p), ctx=decord.cpu(0), num_threads=1)
        total = len(reader)
        idx = frame_indices(total, num_frames, sampling)
        frames = reader.get_batch(idx).asnumpy()  # [T, H, W, C] uint8 RGB
    except VideoReadError:
        raise
    except Exception as exc:  # decord raises its own DECORDError and RuntimeErrors
        raise VideoReadError(f"cannot read video {p}: {str(exc).splitlines()[0][:200]}") from exc
    if frames.ndim != 4 or frames.shape[0] == 0:
        raise VideoReadError(f"video {p} decoded to no frames")
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).contiguous()


def _read_gif(p: Path, num_frames: int | None, sampling: str) -> torch.Tensor:
    from PIL import Image, ImageSequence

    try:
        with Image.open(p) as im:
            frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    except Exception as exc:
        raise VideoReadError(f"cannot read video {p}: {exc}") from exc
    if not frames:
        raise VideoReadError(f"video {p} has no frames")
    idx = frame_indices(len(frames), num_frames, sampling)
    arr = np.stack([frames[i] for i in idx])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def write_video(
    path: str | os.PathLike[str],
    video: torch.Tensor,
    *,
    fps: int = 8,
    mode: Literal["lossless", "lossy"] = "lossless",
) -> Path:
    """Write one uint8 ``[T, C, H, W]`` video atomically (temp file + rename).

    ``lossless`` is bit-exact RGB (libx264rgb, crf 0) so decord reads back identical tensors;
    ``.mkv`` with ``lossless`` uses FFV1 (also RGB-exact). ``.gif`` writes a GIF preview.
    """
    validate(video, name="video", single=True)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    frames = video.permute(0, 2, 3, 1).contiguous().cpu().numpy()  # [T, H, W, C]
    tmp = p.with_name(f".{p.stem}.{os.getpid()}.tmp{p.suffix}")
    try:
        if p.suffix.lower() == ".gif":
            _write_gif(tmp, frames, fps)
        else:
            _write_av(tmp, frames, fps, mode)
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()
    return p


def _write_av(tmp: Path, frames: np.ndarray, fps: int, mode: str) -> None:
    import av

    h, w = frames.shape[1:3]
    lossless_mkv = mode == "lossless" and tmp.suffix.lower() == ".mkv"
    with av.open(str(tmp), mode="w") as container:
        if lossless_mkv:
            stream = container.add_stream("ffv1", rate=fps)
            stream.pix_fmt = "bgr0"
        elif mode == "lossless":
            stream = container.add_stream("libx264rgb", rate=fps)
            stream.pix_fmt = "rgb24"
            stream.options = {"crf": "0", "preset": "ultrafast"}
        elif mode == "lossy":
            if h % 2 or w % 2:
                raise ValueError(f"lossy mp4 needs even height and width, got {h}x{w}")
            stream = container.add_stream("libx264", rate=fps)
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18", "preset": "medium"}
        else:
            raise ValueError(f"unknown write mode {mode!r}; use 'lossless' or 'lossy'")
        stream.width, stream.height = w, h
        for frame in frames:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _write_gif(tmp: Path, frames: np.ndarray, fps: int) -> None:
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    images[0].save(
        tmp, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0
    )


def write_png(path: str | os.PathLike[str], video: torch.Tensor, *, max_frames: int = 8) -> Path:
    """A PNG strip of up to ``max_frames`` evenly spaced frames of one video (a preview)."""
    from PIL import Image

    validate(video, name="video", single=True)
    idx = frame_indices(video.shape[0], min(max_frames, video.shape[0]), "middle")
    strip = torch.cat([video[i] for i in idx], dim=-1).permute(1, 2, 0).cpu().numpy()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    Image.fromarray(strip).save(tmp, format="PNG")
    os.replace(tmp, p)
    return p


TEMPORARY_MARKERS = (".tmp", ".part", ".partial", ".crdownload", "~")


def is_video_file(p: Path) -> bool:
    """A video file by extension, not a dotfile (macOS ``._x.mp4``, our own ``.x.123.tmp.mp4``
    temporaries) and not a leftover temporary or partial download."""
    name = p.name.lower()
    if name.startswith(".") or any(m in name for m in TEMPORARY_MARKERS):
        return False
    return p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file()


def list_videos(folder: str | os.PathLike[str]) -> list[Path]:
    """Video files directly inside ``folder`` (:func:`is_video_file`), sorted by name; an empty
    folder is an error."""
    d = Path(folder)
    if not d.is_dir():
        raise ValueError(f"--videos must be a folder of videos; {d} is not a folder")
    files = sorted(p for p in d.iterdir() if is_video_file(p))
    if not files:
        raise ValueError(f"no video files ({', '.join(VIDEO_EXTENSIONS)}) in {d}")
    return files


def stack(videos: Sequence[torch.Tensor]) -> torch.Tensor:
    """Stack single videos of one shape into a batch, validating each."""
    for i, v in enumerate(videos):
        validate(v, name=f"video {i}", single=True)
    return torch.stack(list(videos))
