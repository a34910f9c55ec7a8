"""Pin the reference implementations' numbers on committed synthetic inputs (issue 22).

Computes, with the reference code itself, every VBench-lite dimension and distribution distance
whose reference is installable, on the synthetic videos and random-init weights of
``tests/pinned/inputs.py``, and writes ``tests/pinned/reference_values.json``. The tests
(``tests/test_reference_values.py``) recompute vbench_lite's numbers on the same inputs and
compare with the tolerances recorded here, so CI needs none of these packages.

Reference implementations (install into a separate virtual environment, not the project's):

    pip install --no-deps vbench==0.1.5 torch-fidelity==0.4.0 cd-fvd==0.1.1
    pip install easydict omegaconf einops imageio   # what VBench's dimension modules import

and a checkout of facebookresearch/dino (VBench loads DINO from it through torch.hub; nothing
here downloads): ``--dino-repo PATH`` (the folder holding ``vision_transformer.py``).

Regenerate: ``python scripts/pin_reference_values.py --dino-repo PATH`` (writes the JSON; commit it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pinned import inputs  # noqa: E402
from vbench_lite.video import write_video  # noqa: E402

OUT = ROOT / "tests" / "pinned" / "reference_values.json"


def _versions() -> dict[str, str]:
    names = ("vbench", "torch-fidelity", "cd-fvd", "torch", "torchvision", "open_clip_torch", "timm", "numpy")
    return {n: metadata.version(n) for n in names} | {"python": sys.version.split()[0]}


def _load_dino_vit_base(repo: Path) -> torch.nn.Module:
    sys.path.insert(0, str(repo))  # DINO's vision_transformer.py imports its utils.py
    spec = importlib.util.spec_from_file_location("dino_vision_transformer", repo / "vision_transformer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.vit_base(patch_size=16, num_classes=0)


def pin_frame_indices() -> dict:
    from vbench.utils import get_frame_indices

    lists = [get_frame_indices(k, n, sample="middle") for n, k in inputs.frame_index_cases()]
    examples = {f"{n},{k}": list(map(int, get_frame_indices(k, n, sample="middle")))
                for n, k in ((16, 8), (10, 4), (3, 5), (64, 32), (17, 7))}
    return {"source": "vbench.utils.get_frame_indices(num_frames, vlen, sample='middle')",
            "cases": "video lengths 1-64 x frame counts 1-32", "sha256": inputs.index_lists_sha256(lists),
            "examples": examples}


def pin_subject_consistency(path: str, dino_repo: Path) -> dict:
    import timm
    from vbench.subject_consistency import subject_consistency

    timm_model = timm.create_model("vit_base_patch16_224.dino", pretrained=False, num_classes=0)
    sd = inputs.random_state_dict(timm_model, inputs.SEED)
    dino = _load_dino_vit_base(dino_repo).eval()
    dino.load_state_dict(sd, strict=True)
    value, per_video = subject_consistency(dino, [path], "cpu", read_frame=False)
    return {"value": float(per_video[0]["video_results"]), "tolerance": 1e-5, "weights_sha256": inputs.content_sha256(sd),
            "source": "vbench.subject_consistency.subject_consistency, DINO's own vit_base (facebookresearch/dino)"}


def _random_vit_b_32() -> tuple[torch.nn.Module, dict]:
    import open_clip

    model = open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True)
    sd = inputs.random_state_dict(model, inputs.SEED + 10)
    model.load_state_dict(sd)
    return model.eval(), sd


def pin_background_consistency(path: str) -> dict:
    import types

    # the module imports OpenAI's `clip` only for clip.load in compute_background_consistency; the
    # dimension function itself takes the model, so no `clip` package is needed
    sys.modules.setdefault("clip", types.ModuleType("clip"))
    from vbench.background_consistency import background_consistency

    model, sd = _random_vit_b_32()
    value, per_video = background_consistency(model, None, [path], "cpu", read_frame=False)
    return {"value": float(per_video[0]["video_results"]), "tolerance": 2e-4, "weights_sha256": inputs.content_sha256(sd),
            "source": "vbench.background_consistency.background_consistency (clip_transform), open_clip "
                      "ViT-B-32 quick-GELU (OpenAI CLIP's architecture)"}


def pin_clipsim(video: torch.Tensor, prompt: str) -> dict:
    import open_clip
    from PIL import Image

    model, sd = _random_vit_b_32()
    preprocess = open_clip.image_transform(224, is_train=False)
    with torch.no_grad():
        img = torch.stack([preprocess(Image.fromarray(f.permute(1, 2, 0).numpy())) for f in video])
        fi = model.encode_image(img, normalize=True).double()
        ft = model.encode_text(open_clip.tokenize([prompt]), normalize=True).double()
    cos = (fi @ ft.T).squeeze(1)
    return {"clipsim": float(cos.mean()), "clipscore": float(max(100 * cos.mean(), 0)), "prompt": prompt,
            "tolerance": 2e-4, "weights_sha256": inputs.content_sha256(sd),
            "source": "open_clip image_transform (PIL) + encode_image/encode_text cosine, mean over frames; "
                      "clipscore: torchmetrics CLIPScore's max(100 x mean cos, 0)"}


def pin_temporal_flickering(path: str) -> dict:
    from vbench.temporal_flickering import cal_score

    return {"value": float(cal_score(path)), "tolerance": 3e-8, "source": "vbench.temporal_flickering.cal_score"}


def pin_dynamic_degree(path: str) -> dict:
    """VBench's DynamicDegree.infer (8-fps frames, InputPadder, get_score on the padded flow,
    set_params, check_move) around torchvision's RAFT-large with random weights."""
    from torchvision.models.optical_flow import raft_large
    from vbench.dynamic_degree import DynamicDegree

    raft = raft_large(weights=None, progress=False)
    sd = inputs.random_state_dict(raft, inputs.SEED + 20)
    raft.load_state_dict(sd)
    raft.eval()

    class TorchvisionRaft(torch.nn.Module):  # VBench's RAFT call convention: float 0-255 in
        def forward(self, image1, image2, iters=20, test_mode=True):
            return None, raft(image1 / 127.5 - 1.0, image2 / 127.5 - 1.0, num_flow_updates=iters)[-1]

    dyn = DynamicDegree.__new__(DynamicDegree)
    dyn.device, dyn.model = "cpu", TorchvisionRaft()
    seen: list[float] = []
    rule = dyn.check_move
    dyn.check_move = lambda scores: (seen.extend(scores), rule(scores))[1]
    moved = dyn.infer(path)
    return {"value": float(moved), "pair_scores": seen, "thres": dyn.params["thres"],
            "count_num": dyn.params["count_num"], "tolerance": 1e-4, "weights_sha256": inputs.content_sha256(sd),
            "source": "vbench.dynamic_degree.DynamicDegree.infer around torchvision raft_large (20 updates)"}


def pin_motion_smoothness(path: str) -> dict:
    from vbench.motion_smoothness import MotionSmoothness

    from vbench_lite.metrics.vbench.backbones import build_amt_s

    net = build_amt_s()
    sd = inputs.random_state_dict(net, inputs.SEED + 30)
    with tempfile.TemporaryDirectory() as d:
        ckpt = Path(d) / "amt-s.pth"
        torch.save({"state_dict": sd}, ckpt)
        cfg = Path(importlib.util.find_spec("vbench").origin).parent / "third_party" / "amt" / "cfgs" / "AMT-S.yaml"
        ms = MotionSmoothness(str(cfg), str(ckpt), "cpu")
        value = ms.motion_score(path)
    return {"value": float(value), "tolerance": 1e-6, "weights_sha256": inputs.content_sha256(sd),
            "source": "vbench.motion_smoothness.MotionSmoothness.motion_score with AMT-S (VBench's AMT-S.yaml)"}


def pin_distances() -> dict:
    from cdfvd.utils.metric_utils import FeatureStats
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.metric_kid import kid_features_to_metric

    out = {}
    for n in (128, 400):
        # float32 rows as detectors return them, handed over in float64 as vbench_lite reduces them
        # (torch-fidelity would otherwise reduce in float32, 1e-7 apart)
        real = inputs.features(1, n, 64).astype(np.float64)
        fake = inputs.features(2, n, 64, shift=0.3).astype(np.float64)
        fid = fid_statistics_to_metric(fid_features_to_statistics(torch.from_numpy(real)),
                                       fid_features_to_statistics(torch.from_numpy(fake)), verbose=False)
        stats = []
        for f in (real, fake):
            s = FeatureStats(capture_mean_cov=True)
            s.append(f)
            stats.append(s.get_mean_cov())
        import scipy.linalg

        (m1, s1), (m2, s2) = stats
        root, _ = scipy.linalg.sqrtm(s1 @ s2, disp=False)
        fvd_n = float(np.real(np.square(m1 - m2).sum() + np.trace(s1 + s2 - 2 * root)))
        kid = kid_features_to_metric(torch.from_numpy(fake), torch.from_numpy(real), kid_subsets=1,
                                     kid_subset_size=n, verbose=False, rng_seed=0)
        out[str(n)] = {"fvd_unbiased": float(fid["frechet_inception_distance"]), "fvd_stylegan_v": fvd_n,
                       "kvd_whole_set": float(kid["kernel_inception_distance_mean"])}
    return {"values": out, "tolerance": {"fvd": 1e-7, "kvd": 3e-14}, "features": "inputs.features(1|2, N, 64)",
            "source": "torch-fidelity fid_features_to_statistics/fid_statistics_to_metric (N-1); cd-fvd "
                      "FeatureStats.get_mean_cov (N, StyleGAN-V's) with its sqrtm formula; torch-fidelity "
                      "kid_features_to_metric on the whole sets (one subset of size N: any subset order)"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dino-repo", type=Path, required=True, help="a checkout of facebookresearch/dino")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", default=None,
                        help="comma-separated pins to recompute, keeping the others of --out (default: all)")
    args = parser.parse_args(argv)
    from vbench.utils import load_video

    vids = inputs.videos()
    only = set(args.only.split(",")) if args.only else None
    pins = json.loads(args.out.read_text()) if only and args.out.is_file() else {}
    pins |= {"inputs_sha256": {n: inputs.content_sha256(v) for n, v in vids.items()}, "versions": _versions(),
             "regenerate": "python scripts/pin_reference_values.py --dino-repo PATH (see its docstring)"}
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for name, v in vids.items():
            paths[name] = str(write_video(Path(d) / f"{name}.mp4", v, fps=8))
            assert torch.equal(load_video(paths[name]).to(torch.uint8), v), f"{name}: mp4 is not bit-exact"
        todo = {
            "frame_indices_middle": pin_frame_indices,
            "temporal_flickering": lambda: pin_temporal_flickering(paths["consistency"]),
            "subject_consistency": lambda: pin_subject_consistency(paths["consistency"], args.dino_repo),
            "background_consistency": lambda: pin_background_consistency(paths["consistency"]),
            "clipsim": lambda: pin_clipsim(vids["consistency"], "a textured pattern drifting to the left"),
            "motion_smoothness": lambda: pin_motion_smoothness(paths["motion"]),
            "dynamic_degree": lambda: pin_dynamic_degree(paths["motion"]),
            "distances": pin_distances,
        }
        for name, fn in todo.items():
            if only is None or name in only:
                pins[name] = fn()
                args.out.write_text(json.dumps(pins, indent=2) + "\n")  # after each: a crash keeps the rest
                print(f"pinned {name}", flush=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
