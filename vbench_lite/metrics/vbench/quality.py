"""VBench quality dimensions, one public function per dimension on one uint8 video ``[T, C, H, W]``.

Each function reproduces the formula of the VBench module it names (Huang et al. 2024, VBench,
``vbench/<dimension>.py``); where a network is needed it takes a pluggable backbone (see
``backbones.py``), so the same formula runs on VBench's networks (real protocol) and on the
embedded ones (shapes suite).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from vbench_lite.video import validate

# Frames each dimension needs at least (VBench's loops silently divide by zero or skip below this).
MIN_FRAMES = {
    "subject_consistency": 2,
    "background_consistency": 2,
    "temporal_flickering": 2,
    "motion_smoothness": 3,
    "dynamic_degree": 2,
}

FrameFeatures = Callable[[torch.Tensor], torch.Tensor]  # uint8 [T, 3, H, W] -> [T, D]
FlowEstimator = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # -> [N, 2, H', W'] pixels (RAFT: padded)


def check_video(video: torch.Tensor, dimension: str) -> torch.Tensor:
    """Validate one video and that it has the frames ``dimension`` needs."""
    validate(video, name="video", single=True)
    need = MIN_FRAMES[dimension]
    if video.shape[0] < need:
        raise ValueError(
            f"{dimension} needs at least {need} frames, got a video of {video.shape[0]} frame(s)"
        )
    return video


def consistency_from_features(features: torch.Tensor) -> float:
    """VBench's consistency of per-frame features ``[T, D]``.

    ``vbench/subject_consistency.py`` (and ``background_consistency.py``): for i >= 1,
    s_i = (max(0, cos(f_{i-1}, f_i)) + max(0, cos(f_0, f_i))) / 2, averaged over the T - 1 frames.
    """
    f = torch.nn.functional.normalize(features.double(), dim=-1)
    prev = (f[1:] * f[:-1]).sum(-1).clamp(min=0)
    first = (f[1:] * f[:1]).sum(-1).clamp(min=0)
    return float(((prev + first) / 2).mean())


def subject_consistency(video: torch.Tensor, backbone: FrameFeatures) -> float:
    """VBench ``subject_consistency.py`` on the backbone's per-frame features (VBench: DINO
    ViT-B/16 CLS features of whole frames; embedded: shapes-clip on the object region)."""
    check_video(video, "subject_consistency")
    return consistency_from_features(backbone(video))


def background_consistency(video: torch.Tensor, backbone: FrameFeatures) -> float:
    """VBench ``background_consistency.py``: the same formula on CLIP image features (VBench:
    ViT-B/32 on whole frames; embedded: shapes-clip with the objects masked out)."""
    check_video(video, "background_consistency")
    return consistency_from_features(backbone(video))


def temporal_flickering(video: torch.Tensor) -> float:
    """VBench ``temporal_flickering.py``: (255 - mean_i mean|F_{i+1} - F_i|) / 255 on raw frames
    (``cal_score``: the per-pair ``np.mean(cv2.absdiff(...))`` averaged over pairs)."""
    check_video(video, "temporal_flickering")
    v = video.numpy().astype(np.int16)  # numpy: torch's thread pool costs more than this work
    mae = np.abs(v[1:] - v[:-1]).mean(axis=(1, 2, 3), dtype=np.float64)
    return float((255.0 - mae.mean()) / 255.0)


def motion_smoothness(
    video: torch.Tensor, interpolate: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
) -> float:
    """VBench ``motion_smoothness.py``: drop the odd frames, re-create each from its even
    neighbours by frame interpolation, score (255 - mean|Î - F|) / 255 over the re-created frames.

    VBench interpolates with the AMT-S network; the default here is a documented substitute:
    both neighbours warped to the midpoint with Farneback flow (``flow.interpolate_midpoint``).
    As in VBench, the interpolated frames are those between consecutive even frames
    (0-2, 2-4, ...), compared with the original frames 1, 3, ... they replace.
    """
    check_video(video, "motion_smoothness")
    if interpolate is None:
        from vbench_lite.metrics.flow import interpolate_midpoint as interpolate
    diffs = []
    for i in range(0, video.shape[0] - 2, 2):
        mid = interpolate(video[i], video[i + 2]).numpy().astype(np.int16)
        diffs.append(np.abs(mid - video[i + 1].numpy().astype(np.int16)).mean(dtype=np.float64))
    return float((255.0 - np.mean(diffs)) / 255.0)


def sample_8fps(video: torch.Tensor, fps: float) -> torch.Tensor:
    """Frames at about 8 fps: every ``round(fps / 8)``-th frame (VBench ``dynamic_degree.py``
    ``get_frames``: ``interval = round(fps / 8)``)."""
    interval = max(1, int(round(fps / 8.0)))
    return video[::interval]


def top5_flow_magnitude(flow: torch.Tensor) -> torch.Tensor:
    """Per pair, the mean of the largest 5% flow magnitudes (VBench ``DynamicDegree.get_score``:
    ``cut_index = int(h * w * 0.05)``). ``flow``: ``[N, 2, H, W]`` -> ``[N]``."""
    rad = flow.double().pow(2).sum(1).sqrt().flatten(1)
    cut = max(1, int(rad.shape[1] * 0.05))
    return rad.topk(cut, dim=1).values.mean(1)


def dynamic_degree(video: torch.Tensor, flow: FlowEstimator | None = None, *, fps: float = 8.0) -> float:
    """VBench ``dynamic_degree.py``: 1.0 if the video is dynamic, else 0.0.

    Per frame pair at ~8 fps, the mean of the top 5% flow magnitudes; dynamic when at least
    round(4 T / 16) pairs exceed 6 min(H, W) / 256 (``set_params``); every pair counts, as in
    VBench's ``check_move`` (the ``score_list[:-2]`` of ``vbench/cli/static_filter.py`` drops the
    first-to-last pairs that script appends, not frames of the clip). VBench's flow is RAFT; the
    default here is Farneback (``flow.FarnebackFlow``).

    The verdict is all that is kept, so the flow runs on the pairs in order, in chunks of the
    fewest pairs that could settle it, and stops once it is settled (``count_num`` pairs over the
    threshold, or too few pairs left to get there): the same verdict as scoring every pair, as
    VBench does, with 4 of 15 pairs' flow for a clip that moves from the start (16 frames).
    """
    check_video(video, "dynamic_degree")
    frames = sample_8fps(video, fps)
    if frames.shape[0] < MIN_FRAMES["dynamic_degree"]:
        raise ValueError(f"dynamic_degree needs at least 2 frames at 8 fps, got {frames.shape[0]}")
    if flow is None:
        from vbench_lite.metrics.flow import FarnebackFlow

        flow = FarnebackFlow()
    consecutive = getattr(flow, "consecutive", None)  # RAFT: each frame encoded once, same flow
    thres, count_num = move_params(num_frames=frames.shape[0], height=video.shape[-2], width=video.shape[-1])
    pairs, done, over = frames.shape[0] - 1, 0, 0
    while True:
        need = count_num - over  # more pairs over the threshold needed for "dynamic"
        if need <= 0 < done:
            return 1.0
        if pairs - done < need:
            return 0.0
        chunk = max(1, min(need, pairs - done - need + 1))  # either outcome could follow this chunk
        seg = frames[done:done + chunk + 1]
        scores = top5_flow_magnitude(consecutive(seg) if consecutive else flow(seg[:-1], seg[1:]))
        over += int((scores.numpy() > thres).sum())
        done += chunk


def move_params(*, num_frames: int, height: int, width: int) -> tuple[float, int]:
    """VBench's ``DynamicDegree.set_params``: the flow threshold and how many pairs must pass it
    (Python's ``round``, half to even, as VBench)."""
    return 6.0 * min(height, width) / 256.0, round(4 * num_frames / 16.0)


def is_dynamic(pair_scores: np.ndarray, *, num_frames: int, height: int, width: int) -> bool:
    """VBench's ``DynamicDegree.check_move`` on per-pair top-5% flow magnitudes: dynamic when at
    least ``count_num`` of all the pairs exceed ``thres``; it counts inside the loop over the
    pairs, so an empty list is never dynamic."""
    thres, count_num = move_params(num_frames=num_frames, height=height, width=width)
    counted = np.asarray(pair_scores)
    return bool(counted.size) and int((counted > thres).sum()) >= count_num
