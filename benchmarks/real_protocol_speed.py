"""Real-protocol speed against the reference implementations, side by side in one process (issue 26).

    python benchmarks/real_protocol_speed.py [--num 4] [--frames 8] [--size 224] [--threads 2]
        [--kvd-subsets 20] [--rows decode,temporal_flickering,...] [--calibrate]

Each row times the harness and its peer on the same inputs, alternately (``--repeats`` pairs,
the median of each side), and prints wall and CPU-time ratios (peer / harness: > 1 means the
harness is faster) with the load average at the time. On a shared machine read the CPU-time
ratio: the wall ratio measures the scheduler as much as the code.

Inputs: ``--num`` videos of ``--frames`` frames at ``--size`` px (a random texture moving 3 px a
frame, written as yuv420 mp4 as generated videos usually are); DINO ViT-B/16 (timm), CLIP ViT-B/32
(open_clip, quick GELU) and RAFT-large (torchvision) with random weights saved to files and read
through the harness's loaders, the same networks handed to VBench's functions.

Peers (optional; a row is skipped with the reason when its peer is absent):
- VBench 0.1.5's own dimension functions (``pip install --no-deps vbench==0.1.5`` and
  ``pip install easydict omegaconf einops imageio``): ``subject_consistency``,
  ``background_consistency``, ``temporal_flickering``, ``DynamicDegree.infer`` (around the same
  torchvision RAFT, as ``scripts/pin_reference_values.py`` does; VBench's own CLI hard-codes CUDA and
  NCCL, so its dimension functions are the peer);
- OpenCV's ``VideoCapture`` loop (VBench's ``get_frames``) for decoding;
- torch-fidelity 0.4.0 for FVD (``fid_features_to_statistics`` + ``fid_statistics_to_metric``) and
  KVD (``kid_features_to_metric``).

``dynamic_degree`` stops computing flow once a clip's verdict is settled (the verdict is all the
dimension keeps; VBench computes every pair). With random RAFT weights every clip here scores dynamic,
which settles after round(4 T / 16) pairs: that loop's best case. ``dynamic_degree_all_pairs``
computes every pair's flow through the same network, the cost of a clip settled only by its last pair
(the worst case); real videos and weights fall between the two.

``evaluate (4 dims)`` is a whole ``evaluate_folder`` run with the real protocol on subject and
background consistency, temporal flickering and dynamic degree (decoding included, networks
loaded beforehand on both sides, a fresh cache each time) against VBench's four functions run one
after another on the same files. ``--calibrate`` prints the CPU time per frame of DINO and CLIP
at each batch size (the measurement behind ``vbench_lite/metrics/batching.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

DIMS4 = ("subject_consistency", "background_consistency", "temporal_flickering", "dynamic_degree")
ROWS = ("decode", "temporal_flickering", "subject_consistency", "background_consistency", "dynamic_degree",
        "dynamic_degree_all_pairs", "fvd", "kvd", "evaluate")


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def side_by_side(ours: Callable[[], Any], peer: Callable[[], Any], repeats: int) -> dict[str, Any]:
    """Alternate the two ``repeats`` times (peer first, then ours); medians of wall and CPU time."""
    w_o, c_o, w_p, c_p, loads = [], [], [], [], []
    for _ in range(repeats):
        loads.append(os.getloadavg()[0])
        w, c, vp = _timed(peer)
        w_p.append(w), c_p.append(c)
        w, c, vo = _timed(ours)
        w_o.append(w), c_o.append(c)
    med = statistics.median
    return {"ours_wall": med(w_o), "ours_cpu": med(c_o), "peer_wall": med(w_p), "peer_cpu": med(c_p),
            "load": med(loads), "ours_value": vo, "peer_value": vp}


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def make_inputs(root: Path, num: int, frames: int, size: int) -> list[Path]:
    from vbench_lite.video import write_video

    g = torch.Generator().manual_seed(0)
    files = []
    for i in range(num):
        base = torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
        base = torch.nn.functional.avg_pool2d(base[None].float(), 5, 1, 2)[0].to(torch.uint8)  # some texture
        video = torch.stack([base.roll(3 * t * (i % 2), -1) for t in range(frames)])  # every other one moves
        files.append(write_video(root / f"video-{i}.mp4", video, fps=8, mode="lossy"))
    import json

    (root.parent / "prompts.json").write_text(json.dumps({f.name: "a moving texture" for f in files}))
    return files


def make_weights(root: Path) -> dict[str, Any]:
    import open_clip
    import timm
    from torchvision.models.optical_flow import raft_large

    torch.manual_seed(0)
    nets = {"dino": timm.create_model("vit_base_patch16_224.dino", pretrained=False, num_classes=0,
                                      dynamic_img_size=True).eval(),
            "clip": open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True).eval(),
            "raft": raft_large(weights=None, progress=False).eval()}
    paths = {}
    for name, net in nets.items():
        paths[name] = root / f"{name}.pth"
        torch.save(net.state_dict(), paths[name])
    return {"nets": nets, "paths": paths}


def vbench_peers(nets: dict[str, torch.nn.Module]) -> dict[str, Callable[[list[str]], float]] | str:
    """VBench's dimension functions on file lists, or the reason they are unavailable."""
    if not _have("vbench"):
        return "vbench not installed (pip install --no-deps vbench==0.1.5)"
    sys.modules.setdefault("clip", types.ModuleType("clip"))  # only compute_background_consistency uses it
    try:
        from vbench.background_consistency import background_consistency
        from vbench.dynamic_degree import DynamicDegree
        from vbench.subject_consistency import subject_consistency
        from vbench.temporal_flickering import temporal_flickering
    except ImportError as exc:
        return f"vbench's dimension modules need {exc.name} (pip install easydict omegaconf einops imageio)"
    import logging

    logging.getLogger().setLevel(logging.WARNING)  # vbench.utils calls basicConfig(INFO) at import
    from vbench_lite.metrics.vbench.backbones import PrincetonCorrBlock

    raft = nets["raft"]
    # VBench's vendored RAFT runs frames under 128 px; torchvision's correlation block refuses them
    raft.corr_block = PrincetonCorrBlock(raft.corr_block)

    class TorchvisionRaft(torch.nn.Module):  # VBench's RAFT call convention: float 0-255 in
        def forward(self, image1, image2, iters=20, test_mode=True):
            return None, raft(image1 / 127.5 - 1.0, image2 / 127.5 - 1.0, num_flow_updates=iters)[-1]

    dyn = DynamicDegree.__new__(DynamicDegree)
    dyn.device, dyn.model = "cpu", TorchvisionRaft()

    def dynamic_degree(files: list[str]) -> float:
        with torch.no_grad():
            return float(np.mean([float(dyn.infer(f)) for f in files]))

    def quiet(fn: Callable[[], Any]) -> Any:
        import contextlib
        import io

        with contextlib.redirect_stderr(io.StringIO()):  # tqdm bars
            return fn()

    return {
        "subject_consistency": lambda fs: quiet(lambda: float(np.mean(
            [r["video_results"] for r in subject_consistency(nets["dino"], fs, "cpu", False)[1]]))),
        "background_consistency": lambda fs: quiet(lambda: float(np.mean(
            [r["video_results"] for r in background_consistency(nets["clip"], None, fs, "cpu", False)[1]]))),
        "temporal_flickering": lambda fs: quiet(lambda: float(np.mean(
            [r["video_results"] for r in temporal_flickering(fs)[1]]))),
        "dynamic_degree": dynamic_degree,
    }


def cv2_frames(path: str) -> list[np.ndarray]:
    """VBench's ``get_frames`` (temporal_flickering.py): OpenCV ``VideoCapture.read`` to the end."""
    import cv2

    cap, frames = cv2.VideoCapture(path), []
    while cap.isOpened():
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def calibrate(nets: dict[str, torch.nn.Module], size: int) -> None:
    x = torch.randn(64, 3, 224, 224)
    print(f"\nbatch-size calibration, 224 px frames, CPU seconds per frame (load {os.getloadavg()[0]:.1f}):")
    for name, fn in (("dino-vit-b-16", nets["dino"]), ("vit-b-32", nets["clip"].encode_image)):
        with torch.no_grad():
            fn(x[:4])
            row = []
            for bs in (4, 8, 16, 32, 64):
                _, cpu, _ = _timed(lambda bs=bs, fn=fn: [fn(x[i : i + bs]) for i in range(0, 64, bs)])
                row.append(f"{bs}: {cpu / 64:.4f}")
        print(f"  {name:14s} " + "  ".join(row))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=4, help="videos (default 4)")
    parser.add_argument("--frames", type=int, default=8, help="frames per video (default 8)")
    parser.add_argument("--size", type=int, default=224, help="frame side in px (default 224)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="alternating pairs per row (median)")
    parser.add_argument("--kvd-subsets", type=int, default=20, help="KVD subsets of 1000 (torch-fidelity: 100)")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated subset of {','.join(ROWS)}")
    parser.add_argument("--calibrate", action="store_true", help="also print the batch-size calibration")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = [r for r in args.rows.split(",") if r]
    unknown = set(rows) - set(ROWS)
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)}; use {', '.join(ROWS)}")

    from vbench_lite.metrics import frechet, kernel
    from vbench_lite.metrics.clip_models import load_vit_b_32
    from vbench_lite.metrics.vbench import quality
    from vbench_lite.metrics.vbench.backbones import ClipFrameFeatures, DinoFeatures, RaftFlow
    from vbench_lite.pipeline.external import evaluate_folder
    from vbench_lite.video import read_videos_parallel

    tmp = Path(tempfile.mkdtemp(prefix="real_protocol_speed-"))
    files = make_inputs(tmp / "videos", args.num, args.frames, args.size)
    names = [str(f) for f in files]
    w = make_weights(tmp)
    ours_nets = {"dino": DinoFeatures(w["paths"]["dino"]), "clip": ClipFrameFeatures(load_vit_b_32(w["paths"]["clip"]), "full"),
                 "raft": RaftFlow(w["paths"]["raft"])}
    peers = vbench_peers(w["nets"])
    print(f"{args.num} videos x {args.frames} frames at {args.size} px (yuv420 mp4), {args.threads} torch threads, "
          f"{os.cpu_count()} CPUs, shared machine; peer / harness ratios (> 1: the harness is faster)")

    def from_files(fn: Callable[[torch.Tensor], float]) -> Callable[[], float]:
        return lambda: float(np.mean([fn(v) for v in read_videos_parallel(names)]))

    ours_dims = {
        "temporal_flickering": from_files(quality.temporal_flickering),
        "subject_consistency": from_files(lambda v: quality.subject_consistency(v, ours_nets["dino"])),
        "background_consistency": from_files(lambda v: quality.background_consistency(v, ours_nets["clip"])),
        "dynamic_degree": from_files(lambda v: quality.dynamic_degree(v, ours_nets["raft"], fps=8)),
        # every pair's flow, as a clip settled only by its last pair needs (the stop-once-settled
        # loop's worst case; random RAFT weights make every clip here dynamic, its best case)
        "dynamic_degree_all_pairs": from_files(lambda v: float(quality.is_dynamic(
            quality.top5_flow_magnitude(ours_nets["raft"].consecutive(quality.sample_8fps(v, 8))).numpy(),
            num_frames=v.shape[0], height=v.shape[-2], width=v.shape[-1]))),
    }
    table: list[tuple[str, dict[str, Any] | str]] = []

    def measure(row: str) -> None:
        if row == "decode":
            if not _have("cv2"):
                table.append((row, "OpenCV not installed"))
                return
            table.append(("decode (vs cv2 loop)", side_by_side(
                lambda: len(read_videos_parallel(names)), lambda: len([cv2_frames(f) for f in names]), args.repeats)))
        elif row in ours_dims:
            if isinstance(peers, str):
                table.append((row, peers))
                return
            peer = peers[row.removesuffix("_all_pairs")]
            table.append((row, side_by_side(ours_dims[row], lambda: peer(names), args.repeats)))
        elif row in ("fvd", "kvd"):
            if not _have("torch_fidelity"):
                table.append((row, "torch-fidelity not installed (pip install torch-fidelity==0.4.0)"))
                return
            import torch_fidelity.metric_fid as tf_fid
            import torch_fidelity.metric_kid as tf_kid

            rng = np.random.default_rng(0)
            d = 400 if row == "fvd" else 2048
            a = rng.standard_normal((2048, d)).astype(np.float32)
            b = (rng.standard_normal((2048, d)) * 1.05 + 0.02).astype(np.float32)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            if row == "fvd":
                def peer_fvd() -> float:
                    s1, s2 = tf_fid.fid_features_to_statistics(ta), tf_fid.fid_features_to_statistics(tb)
                    return float(tf_fid.fid_statistics_to_metric(s1, s2, False)["frechet_inception_distance"])

                table.append(("fvd (2048 x 400-d)", side_by_side(
                    lambda: frechet.frechet_distance_from_features(a, b, "unbiased"), peer_fvd, args.repeats)))
            else:
                s = args.kvd_subsets
                res = side_by_side(
                    lambda: kernel.kernel_distance(a, b, s, 1000)[0],
                    lambda: tf_kid.kid_features_to_metric(ta, tb, kid_subsets=s, kid_subset_size=1000, verbose=False,
                                                          rng_seed=0)["kernel_inception_distance_mean"],
                    args.repeats)
                f64 = kernel.kernel_distance(a, b, s, 1000, precision="float64")[0]
                res["note"] = (f"float32 products vs all-float64 on the same subsets: rel. diff "
                               f"{abs(res['ours_value'] - f64) / abs(f64):.1e} (peer's subsets differ)")
                table.append((f"kvd ({s} x 1000 of 2048-d)", res))
        elif row == "evaluate":
            if isinstance(peers, str):
                table.append(("evaluate (4 dims)", peers))
                return
            from vbench_lite.metrics.vbench.metric import VBenchConfig, backbones_for

            config = VBenchConfig(protocol="real", dino_weights=str(w["paths"]["dino"]),
                                  clip_weights=str(w["paths"]["clip"]), raft_weights=str(w["paths"]["raft"]),
                                  dimensions=DIMS4, fps=8)
            backbones_for(config, "cpu")  # networks loaded beforehand, as on the peer's side

            def ours_eval() -> dict[str, float]:
                os.environ["VBENCH_LITE_CACHE"] = tempfile.mkdtemp(dir=tmp)  # nothing cached
                out = evaluate_folder(tmp / "videos", prompts_file=tmp / "prompts.json", metrics=("vbench",),
                                      suite=None, out=None,
                                      metric_configs={"vbench": config}, progress=False)
                return {d: round(out.result.metrics[f"vbench_{d}"].value, 6) for d in DIMS4}

            table.append(("evaluate (4 dims)", side_by_side(
                ours_eval, lambda: {d: round(peers[d](names), 6) for d in DIMS4}, args.repeats)))


    for row in rows:
        measure(row)
    print(f"\n{'row':28s} {'harness wall/cpu s':>19s} {'peer wall/cpu s':>17s} {'wall x':>7s} {'cpu x':>6s} {'load':>5s}")
    for name, r in table:
        if isinstance(r, str):
            print(f"{name:28s} skipped: {r}")
            continue
        print(f"{name:28s} {r['ours_wall']:8.3f} / {r['ours_cpu']:7.3f} {r['peer_wall']:7.3f} / {r['peer_cpu']:7.3f} "
              f"{r['peer_wall'] / r['ours_wall']:6.2f}x {r['peer_cpu'] / r['ours_cpu']:5.2f}x {r['load']:5.1f}")
        print(f"{'':28s} values: harness {r['ours_value']}  peer {r['peer_value']}")
        if r.get("note"):
            print(f"{'':28s} {r['note']}")
    if args.calibrate:
        calibrate(w["nets"], args.size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
