"""The user's real reference set for FVD/KVD: a folder of real videos, or a statistics file.

- ``folder_reference_stats(DIR, detector, sampling=...)``: every video of the folder read as one
  clip of ``detector.num_frames`` frames by a recorded clip protocol (``first``: the first N
  consecutive frames, StyleGAN-V's FVD; ``stride:K``: every K-th frame from the first; ``middle``:
  VBench's segment middles), at its own size (the detector resizes as its protocol says: I3D to
  224x224 inside the TorchScript). Before any feature is computed every file is probed: an
  unreadable file, or a clip shorter than the protocol needs, is an error that says how many and
  which. The statistics are cached under the full protocol (file names and SHA-256 of every file,
  detector identity, sampling, covariance), as the suite's are (:mod:`.reference_stats`).
- ``save_stats_file`` / ``load_stats_file``: the same statistics as a portable ``.npz``
  (``stats --videos DIR --out FILE``, reused with ``--reference-stats FILE``). The file records the
  detector (name, weights SHA-256, frames, preprocessing), the clip protocol, the covariance
  convention and the counts; loading it under another protocol is refused, naming what differs.
- A precomputed mean/covariance ``.npz`` in the layout StyleGAN-V / cd-fvd / pytorch-fid users
  exchange (arrays ``mu`` and ``sigma``, nothing else recorded) is read with its protocol supplied
  on the command line (``--reference-stats-protocol stylegan-v``: StyleGAN-V's I3D features of the
  first 16 frames, covariance divided by N). It has no features, so KVD cannot use it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vbench_lite.fsutil import sha256_file
from vbench_lite.metrics.base import UnsupportedInput
from vbench_lite.metrics.reference_stats import (
    FORMAT,
    ReferenceStats,
    _base_protocol,
    compute_and_cache,
    load_cached,
)

logger = logging.getLogger(__name__)

SAMPLINGS = ("first", "middle", "stride:K")
# Protocols a bare mean/covariance file can be declared to follow: detector, frames, sampling, covariance.
FOREIGN_PROTOCOLS: dict[str, dict[str, Any]] = {
    "stylegan-v": {"detector": "i3d", "frames": 16, "frame_sampling": "first", "covariance": "stylegan-v"},
}
FEATURE_CHUNK = 32


def _shown(items: list[str], limit: int = 5) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def frames_needed(num_frames: int, sampling: str) -> int:
    """Frames a clip must have to give ``num_frames`` frames under ``sampling``."""
    if sampling.startswith("stride:"):
        k = sampling.partition(":")[2]
        if not k.isdigit() or int(k) < 1:
            raise ValueError(f"unknown reference frame sampling {sampling!r}; use {', '.join(SAMPLINGS)} (K >= 1)")
        return (num_frames - 1) * int(k) + 1
    if sampling == "first":
        return num_frames
    if sampling == "middle":  # VBench pads a short clip with its last frame; the protocol wants whole clips
        return num_frames
    raise ValueError(f"unknown reference frame sampling {sampling!r}; use {', '.join(SAMPLINGS)} (K >= 1)")


def frame_count(path: Path) -> int:
    """The number of frames of a video file, without decoding it (decord's index; GIFs by PIL)."""
    from vbench_lite.video import VideoReadError

    try:
        if path.suffix.lower() == ".gif":
            from PIL import Image

            with Image.open(path) as im:
                return int(getattr(im, "n_frames", 1))
        import decord

        return len(decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1))
    except Exception as exc:  # decord's DECORDError, PIL's errors: the file is not a readable video
        raise VideoReadError(f"{path.name}: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}") from exc


def reference_files(folder: str | os.PathLike[str], num_frames: int, sampling: str) -> list[Path]:
    """The folder's video files, each checked readable and long enough for the clip protocol."""
    from vbench_lite.video import is_video_file

    d = Path(folder).expanduser()
    if not d.exists():
        raise ValueError(f"--reference {folder}: no such folder")
    if not d.is_dir():
        raise ValueError(f"--reference {folder} is not a folder; give the folder of real videos "
                         "(or a statistics file with --reference-stats)")
    files = sorted(p for p in d.iterdir() if is_video_file(p))
    if not files:
        raise ValueError(f"--reference {folder}: no readable video (.mp4/.gif/.webm/.avi/.mkv/.mov) in the folder")
    need = frames_needed(num_frames, sampling)
    unreadable, short = [], []
    for f in files:
        try:
            n = frame_count(f)
        except ValueError as exc:
            unreadable.append(str(exc))
            continue
        if n < need:
            short.append(f"{f.name} ({n})")
    if unreadable:
        raise ValueError(f"--reference {folder}: {len(unreadable)} of {len(files)} videos cannot be read: "
                         f"{_shown(unreadable, 3)}; remove or re-encode them")
    if short:
        raise ValueError(
            f"--reference {folder}: {len(short)} of {len(files)} videos have fewer than the {need} frames the "
            f"detector's {num_frames}-frame clips need (sampling {sampling}): {_shown(short)}; "
            "remove them or use longer clips"
        )
    return files


def _features_by_shape(detector: Any, videos: list[torch.Tensor]) -> np.ndarray:
    """Features of clips that may differ in size: each group of one size goes through the detector
    together (features are batch-independent, ``detectors/base.py``), rows kept in input order."""
    out: list[np.ndarray | None] = [None] * len(videos)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, v in enumerate(videos):
        groups.setdefault(tuple(v.shape), []).append(i)
    for idx in groups.values():
        feats = detector.features(torch.stack([videos[i] for i in idx])).numpy()
        for j, i in enumerate(idx):
            out[i] = feats[j]
    return np.stack(out)  # type: ignore[arg-type]


class _ShapeGroupingDetector:
    """``compute_and_cache`` hands chunks to ``detector.features``; chunks here are lists of clips."""

    def __init__(self, detector: Any) -> None:
        self.detector = detector

    def features(self, chunk: list[torch.Tensor]) -> torch.Tensor:
        return torch.from_numpy(_features_by_shape(self.detector, chunk))


def folder_reference_stats(
    folder: str | os.PathLike[str], detector: Any, *, sampling: str = "first", covariance: str | None = None,
    recompute: bool = False,
) -> ReferenceStats:
    """Statistics of a folder of real videos under ``detector`` and the clip protocol ``sampling``;
    ``covariance=None``: the detector's convention (``FeatureDetector.covariance``)."""
    from vbench_lite.video import read_video

    frames = detector.num_frames
    files = reference_files(folder, frames, sampling)
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}\0{sha256_file(f)}\n".encode())
    protocol = {
        **_base_protocol(detector, covariance),
        "source": {"kind": "folder", "path": str(Path(folder).resolve()), "frame_sampling": sampling},
        "content_sha256": h.hexdigest(),
        "num": len(files),
        "resolution": "native",
        "frames": frames,
    }
    if not recompute and (hit := load_cached(protocol)) is not None:
        return hit

    class _Chunk(list):  # compute_and_cache hashes chunk.numpy().tobytes(): the clips' bytes in order
        def numpy(self) -> np.ndarray:
            return np.concatenate([v.numpy().ravel() for v in self])

    def chunks() -> Iterator[Any]:
        for i in range(0, len(files), FEATURE_CHUNK):
            yield _Chunk(read_video(f, num_frames=frames, sampling=sampling) for f in files[i : i + FEATURE_CHUNK])

    return compute_and_cache(protocol, chunks, _ShapeGroupingDetector(detector))


# -- statistics files ---------------------------------------------------------------------------------
def save_stats_file(stats: ReferenceStats, path: str | os.PathLike[str]) -> Path:
    """Write ``stats`` as a portable ``.npz`` (features, mean, covariance, protocol), atomically."""
    from vbench_lite.fsutil import atomic_write_bytes

    protocol = {k: v for k, v in stats.protocol.items() if k != "content_sha256"}
    buf = io.BytesIO()
    np.savez(buf, format=np.array(FORMAT), protocol=np.array(json.dumps(protocol, sort_keys=True)),
             content_sha256=np.array(stats.protocol["content_sha256"]), features=stats.features,
             mu=stats.mu, sigma=stats.sigma)
    p = Path(path).expanduser()
    if p.suffix != ".npz":
        p = p.with_name(p.name + ".npz")
    atomic_write_bytes(p, buf.getvalue())
    return p


def _short(x: Any) -> Any:
    return (x[:12] + "...") if isinstance(x, str) and len(x) > 16 else x


def _differences(stored: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    return [f"{key} {_short(stored.get(key))!r} (file) vs {_short(expected.get(key))!r} (this run)"
            for key in sorted(set(stored) | set(expected)) if stored.get(key) != expected.get(key)]


def load_stats_file(
    path: str | os.PathLike[str], detector: Any, *, sampling: str | None = None, covariance: str | None = None,
    declared_protocol: str | None = None,
) -> ReferenceStats:
    """Reference statistics from a file, checked against this run's detector, clip protocol and
    covariance convention (``None``: whatever the file says / the detector's convention)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ValueError(f"--reference-stats {path}: no such file")
    if not p.is_file():
        raise ValueError(f"--reference-stats {path} is a folder; give the .npz file (or the folder with --reference)")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # BadZipFile, ValueError, pickled arrays: not a statistics file
        raise ValueError(f"--reference-stats {path} is not a readable .npz statistics file ({type(exc).__name__})") from exc
    if "format" not in arrays:
        return _foreign_stats(p, arrays, detector, declared_protocol, sampling, covariance)
    if str(arrays["format"]) != FORMAT:
        raise ValueError(f"--reference-stats {path} has format {str(arrays['format'])!r}; expected {FORMAT!r}")
    if declared_protocol:
        raise ValueError(f"--reference-stats-protocol is for bare mean/covariance files; {path} records its own protocol")
    stored = json.loads(str(arrays["protocol"]))
    expected_det = detector.protocol()
    problems = _differences(stored["detector"], expected_det)
    file_sampling = stored["source"].get("frame_sampling", "first")
    if sampling is not None and sampling != file_sampling:
        problems.append(f"frame_sampling {file_sampling!r} (file) vs {sampling!r} (this run)")
    cov = covariance or stored["covariance"]
    if cov != stored["covariance"]:
        problems.append(f"covariance {stored['covariance']!r} (file) vs {cov!r} (this run)")
    if problems:
        raise ValueError(f"--reference-stats {path} was computed under another protocol: {'; '.join(problems[:3])}; "
                         "recompute it with `vbench-lite stats --videos DIR --out FILE` and this run's detector")
    protocol = {**stored, "content_sha256": str(arrays["content_sha256"]),
                "stats_file": {"sha256": sha256_file(p), "path": str(p.resolve())}}
    return ReferenceStats(arrays["features"], arrays["mu"], arrays["sigma"], protocol, p)


def _foreign_stats(
    p: Path, arrays: dict[str, np.ndarray], detector: Any, declared: str | None, sampling: str | None,
    covariance: str | None,
) -> ReferenceStats:
    if "mu" not in arrays or "sigma" not in arrays:
        raise ValueError(f"--reference-stats {p} holds neither vbench_lite statistics nor 'mu' and 'sigma' arrays "
                         f"(it has {', '.join(sorted(arrays)) or 'nothing'})")
    if declared is None:
        raise ValueError(f"--reference-stats {p} is a bare mean/covariance file that records no protocol; "
                         f"state it with --reference-stats-protocol ({', '.join(FOREIGN_PROTOCOLS)})")
    if declared not in FOREIGN_PROTOCOLS:
        raise ValueError(f"unknown --reference-stats-protocol {declared!r}; use {', '.join(FOREIGN_PROTOCOLS)}")
    want = FOREIGN_PROTOCOLS[declared]
    problems = []
    if detector.name != want["detector"] or detector.num_frames != want["frames"]:
        problems.append(f"it is {want['detector']} features of {want['frames']} frames, this run's detector is "
                        f"{detector.name} ({detector.num_frames} frames); use --detector {want['detector']}")
    if sampling not in (None, want["frame_sampling"]):
        problems.append(f"its clips are sampled {want['frame_sampling']!r}, this run asks for {sampling!r}")
    if covariance not in (None, want["covariance"]):
        problems.append(f"its covariance is {want['covariance']!r}, this run asks for {covariance!r}")
    mu, sigma = np.asarray(arrays["mu"], np.float64).reshape(-1), np.asarray(arrays["sigma"], np.float64)
    if sigma.shape != (mu.size, mu.size):
        problems.append(f"mu has {mu.size} values but sigma has shape {sigma.shape}")
    elif mu.size != detector.feature_dim:
        problems.append(f"it holds {mu.size}-d statistics, the {detector.name} detector gives {detector.feature_dim}-d")
    if problems:
        raise ValueError(f"--reference-stats {p} under --reference-stats-protocol {declared}: {problems[0]}")
    sha = sha256_file(p)
    protocol = {
        "format": "mean/covariance npz (mu, sigma)",
        "detector": detector.protocol(),
        "detector_asserted_by": f"--reference-stats-protocol {declared}",
        "covariance": want["covariance"],
        "source": {"kind": "stats-file", "declared_protocol": declared, "frame_sampling": want["frame_sampling"]},
        "content_sha256": sha,
        "num": int(arrays["num"]) if "num" in arrays else None,
        "resolution": "as declared (detector-defined)",
        "frames": want["frames"],
        "stats_file": {"sha256": sha, "path": str(p.resolve())},
    }
    return ReferenceStats(None, mu, sigma, protocol, p)


def require_features(stats: ReferenceStats, metric: str) -> np.ndarray:
    """The reference features (KVD needs them); a mean/covariance file has none."""
    if stats.features is None:
        raise UnsupportedInput(f"{metric} needs the reference features, and {stats.path} holds only a mean and "
                               "covariance; give the real videos with --reference DIR or a vbench_lite statistics file")
    return stats.features
