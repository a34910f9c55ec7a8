"""Contrastive training of the embedded ``shapes-clip`` on shapes frames and their captions.

Data: frames of the suite's ``train`` split (disjoint seeds from every reported split), each paired
with its caption without the motion phrase (``vocab.caption(attrs, with_motion=False)``: a single
frame cannot show direction). Rendered once and cached under the vbench_lite cache folder.

Loss: CLIP's symmetric InfoNCE (Radford et al. 2021, Fig. 3) over the batch's *distinct* captions:
many frames share a caption, so a frame's positives are all frames with its caption (multi-positive
targets, as in supervised contrastive learning) rather than false negatives. Two-object captions
also get their object-swapped and relation-swapped captions as extra text negatives, so the
model must read the relation, not only the bag of words; and every frame gets, per object, one
caption with that object's shape changed (at 32 px shapes differ by a few edge pixels).

Held-out accuracy: text-to-frame retrieval top-1 on the ``validation`` split (middle frame of each
video): each distinct caption retrieves the frame of highest cosine; correct when that frame has
the caption. Training checkpoints to the cache every ``CHECKPOINT_EVERY`` steps and resumes.
"""

from __future__ import annotations

import io
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vbench_lite.fsutil import (
    atomic_write_bytes,
    atomic_write_json,
    cache_dir,
    read_cache_bytes,
    sha256_file,
    write_cache_bytes,
)

logger = logging.getLogger(__name__)

DEFAULT_STEPS = 3200
BATCH = 128
LR = 2e-3
WARMUP = 100
NUM_TRAIN_VIDEOS = 8192
TRAIN_FRAMES = (0, 5, 10, 15)  # frames kept per training video
HELDOUT_SPLIT, HELDOUT_FRAME = "validation", 8
CHECKPOINT_EVERY = 100
EVAL_EVERY = 100
RECIPE = "r2"  # bump when the recipe changes, so a stale checkpoint is never resumed


def _caption_no_motion(attrs: dict[str, Any]) -> str:
    from vbench_lite.suites.shapes import vocab

    return vocab.caption(attrs, with_motion=False)


def _hard_negatives(attrs: dict[str, Any]) -> list[str]:
    """Captions of the same objects with the order swapped or the other relation (two objects)."""
    from vbench_lite.suites.shapes import vocab

    if attrs["num_objects"] != 2:
        return []
    out = []
    swapped = dict(attrs, objects=list(reversed(attrs["objects"])))
    out.append(vocab.caption(swapped, with_motion=False))
    other = "above" if attrs["relation"] == "left of" else "left of"
    out.append(vocab.caption(dict(attrs, relation=other), with_motion=False))
    return out


def _shape_negatives(attrs: dict[str, Any]) -> list[list[str]]:
    """Per object, the captions with that object's shape replaced by each other shape: at 32 px a
    shape differs from another by a few edge pixels, and random batches rarely pit a frame against
    a caption that differs only there."""
    from vbench_lite.suites.shapes import vocab

    out = []
    for k, obj in enumerate(attrs["objects"]):
        alts = []
        for shape in vocab.SHAPES:
            if shape != obj["shape"]:
                objects = [dict(o) for o in attrs["objects"]]
                objects[k]["shape"] = shape
                alts.append(vocab.caption(dict(attrs, objects=objects), with_motion=False))
        out.append(alts)
    return out


def training_data(num_videos: int = NUM_TRAIN_VIDEOS) -> dict[str, Any]:
    """Frames ``[N, F, 3, 32, 32]`` uint8 of the train split with captions (cached on disk)."""
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    key = f"shapes-v{suite.version}-train-{num_videos}-f{'-'.join(map(str, TRAIN_FRAMES))}-r32"
    path = cache_dir("shapes_clip") / f"data-{key}.pt"
    if (cached := _load_verified(path)) is not None:
        return cached
    logger.info("rendering %d training videos for shapes-clip (cached at %s)", num_videos, path)
    items = suite.items("train", num_videos)
    frames = []
    for i in range(0, num_videos, 512):
        chunk = suite.render(items[i : i + 512])
        frames.append(chunk[:, list(TRAIN_FRAMES)].clone())
    data = {
        "frames": torch.cat(frames),
        "captions": [_caption_no_motion(it.attributes) for it in items],
        "full_captions": [it.prompt for it in items],
        "negatives": [_hard_negatives(it.attributes) for it in items],
    }
    _save_verified(path, data)
    return data


def _save_verified(path: Path, obj: Any) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    write_cache_bytes(path, buf.getvalue())


def _load_verified(path: Path) -> Any | None:
    """A cache file written by :func:`_save_verified` whose SHA-256 still matches, else None (a
    corrupt or truncated file is rebuilt with a warning, never a traceback)."""
    data = read_cache_bytes(path)
    if data is None:
        return None
    try:
        return torch.load(io.BytesIO(data), weights_only=False)  # our own cache file, verified above
    except Exception as exc:
        logger.warning("ignoring unreadable cache file %s (%s); rebuilding", path, exc)
        return None


def heldout_data(num: int | None = None) -> tuple[torch.Tensor, list[str]]:
    """Middle frames and motion-free captions of the held-out split."""
    from vbench_lite.suites.shapes import ShapesSuite

    suite = ShapesSuite()
    items = suite.items(HELDOUT_SPLIT, num)
    frames = suite.render(items)[:, HELDOUT_FRAME]
    return frames, [_caption_no_motion(it.attributes) for it in items]


@torch.no_grad()
def retrieval_top1(backbone: Any, frames: torch.Tensor, captions: list[str]) -> dict[str, float]:
    """Text-to-frame top-1 among the distinct captions, and frame-to-text top-1 over the same set."""
    distinct = sorted(set(captions))
    img = backbone.encode_images(frames)
    txt = backbone.encode_texts(distinct)
    sim = txt @ img.T  # [captions, frames]
    best_frame = sim.argmax(dim=1).tolist()
    t2f = float(np.mean([captions[j] == c for c, j in zip(distinct, best_frame)]))
    best_text = sim.argmax(dim=0).tolist()
    f2t = float(np.mean([distinct[j] == c for c, j in zip(captions, best_text)]))
    return {"text_to_frame_top1": t2f, "frame_to_text_top1": f2t, "num_captions": len(distinct),
            "num_frames": len(captions)}


def _loss(
    model: torch.nn.Module,
    tok: Any,
    frames: torch.Tensor,
    caps: list[str],
    negs: list[str],
    renditions: dict[str, str] | None = None,
) -> torch.Tensor:
    """Multi-positive symmetric InfoNCE; ``renditions`` maps a motion-free caption to the text
    actually fed (the full caption with its motion phrase half of the time, so the text tower
    learns that a frame's match does not depend on the motion words CLIPSIM prompts carry)."""
    from vbench_lite.metrics.clip_models import clip_preprocess

    distinct = sorted(set(caps))
    extra = sorted(set(negs) - set(distinct))
    index = {c: i for i, c in enumerate(distinct)}
    target = torch.tensor([index[c] for c in caps])
    img = model.encode_image(clip_preprocess(frames, 32), normalize=True)
    texts = [renditions.get(c, c) for c in distinct] if renditions else distinct
    txt = model.encode_text(tok(texts + extra), normalize=True)
    logits = model.logit_scale.exp() * img @ txt.T  # [B, U + E]
    loss_i2t = torch.nn.functional.cross_entropy(logits, target)
    # text -> image: each distinct caption's positives are all frames with that caption
    pos = torch.zeros(len(distinct), len(caps))
    pos[target, torch.arange(len(caps))] = 1.0
    pos = pos / pos.sum(dim=1, keepdim=True)
    logp = torch.log_softmax(logits[:, : len(distinct)].T, dim=1)
    loss_t2i = -(pos * logp).sum(dim=1).mean()
    return (loss_i2t + loss_t2i) / 2


class _Wrap:
    """The encode_images / encode_texts surface of a ClipBackbone over a model in training."""

    def __init__(self, model: torch.nn.Module, tok: Any) -> None:
        self.model, self.tok = model, tok

    @torch.no_grad()
    def encode_images(self, frames: torch.Tensor) -> torch.Tensor:
        from vbench_lite.metrics.clip_models import clip_preprocess

        return self.model.encode_image(clip_preprocess(frames, 32), normalize=True)

    @torch.no_grad()
    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        return self.model.encode_text(self.tok(texts), normalize=True)


def _lr(step: int, steps: int) -> float:
    if step < WARMUP:
        return LR * (step + 1) / WARMUP
    return LR * 0.5 * (1 + math.cos(math.pi * (step - WARMUP) / max(1, steps - WARMUP)))


def _zero_unseen_token_rows(model: torch.nn.Module, tok: Any, captions: list[str]) -> int:
    """Zero the embedding rows of BPE tokens no training caption uses (they never got a gradient
    signal worth keeping); the shipped file then compresses to a fraction of its size."""
    used = torch.unique(tok(sorted(set(captions))))
    keep = torch.zeros(model.token_embedding.weight.shape[0], dtype=torch.bool)
    keep[used] = True
    with torch.no_grad():
        model.token_embedding.weight[~keep] = 0.0
    return int(keep.sum())


def weights_path(out: str | os.PathLike[str] | None) -> Path:
    """Where ``train --detector shapes-clip --out OUT`` writes: a ``.safetensors`` file as given, else a
    folder (like the other detectors' ``--out``) holding ``shapes_clip.safetensors``."""
    from vbench_lite.metrics.clip_models import SHAPES_CLIP_WEIGHTS

    if not out:
        return SHAPES_CLIP_WEIGHTS
    p = Path(out)
    return p if p.suffix == ".safetensors" else p / SHAPES_CLIP_WEIGHTS.name


def train_shapes_clip(*, steps: int | None = None, seed: int = 0, out: str | os.PathLike[str] | None = None) -> dict:
    """Train ``shapes-clip``; write fp16 safetensors + a JSON manifest; return the manifest.

    ``out`` is a ``.safetensors`` weights file or a folder for ``shapes_clip.safetensors`` (default:
    the shipped ``vbench_lite/assets/shapes_clip.safetensors``); the manifest goes next to it with
    the suffix ``.json``. It is resolved before training, so a bad ``--out`` never costs a run.
    """
    from safetensors.torch import save

    from vbench_lite.env import git_commit
    from vbench_lite.metrics.clip_models import (
        SHAPES_CLIP_CONFIG,
        build_shapes_clip,
        load_shapes_clip,
        tokenizer,
    )

    steps = DEFAULT_STEPS if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"--steps must be at least 1, got {steps}")
    out_path = weights_path(out)
    t0 = time.time()
    data = training_data()
    frames, captions, negatives = data["frames"], data["captions"], data["negatives"]
    full = data["full_captions"]
    from vbench_lite.suites.shapes import ShapesSuite

    n_videos, n_frames = frames.shape[:2]
    shape_negs = [_shape_negatives(it.attributes) for it in ShapesSuite().items("train", n_videos)]
    hf, hc = heldout_data()

    torch.manual_seed(seed)
    model = build_shapes_clip()
    tok = tokenizer(SHAPES_CLIP_CONFIG["text_cfg"]["context_length"])
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}], lr=LR)

    ckpt = cache_dir("shapes_clip") / f"ckpt-{RECIPE}-seed{seed}-steps{steps}.pt"
    start = 0
    if (state := _load_verified(ckpt)) is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = int(state["step"])
        logger.info("resuming shapes-clip training from step %d (%s)", start, ckpt)

    model.train()
    for step in range(start, steps):
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)  # batch depends only on (seed, step)
        vid = torch.randint(0, n_videos, (BATCH,), generator=g)
        fr = torch.randint(0, n_frames, (BATCH,), generator=g)
        caps = [captions[i] for i in vid.tolist()]
        negs = [c for i in vid.tolist() for c in negatives[i]]
        pick = torch.randint(0, 3, (BATCH, 2), generator=g).tolist()
        negs += [alts[p] for i, ps in zip(vid.tolist(), pick) for alts, p in zip(shape_negs[i], ps)]
        use_full = torch.rand(BATCH, generator=g) < 0.5
        renditions = {captions[i]: full[i] for i, u in zip(vid.tolist(), use_full.tolist()) if u}
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps)
        loss = _loss(model, tok, frames[vid, fr], caps, negs, renditions)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():  # CLIP clamps the learned temperature at 100
            model.logit_scale.clamp_(0, math.log(100))
        if (step + 1) % 50 == 0 or step == start:
            logger.info("shapes-clip step %d/%d loss %.4f (%.0f s)", step + 1, steps, loss.item(), time.time() - t0)
        if (step + 1) % EVAL_EVERY == 0 and step + 1 < steps:
            model.eval()
            acc = retrieval_top1(_Wrap(model, tok), hf, hc)
            model.train()
            logger.info("shapes-clip step %d held-out %s", step + 1, acc)
        if (step + 1) % CHECKPOINT_EVERY == 0 and step + 1 < steps:
            buf = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step + 1}
            _save_verified(ckpt, buf)

    model.eval()
    kept = _zero_unseen_token_rows(model, tok, captions + [c for n in negatives for c in n])
    sd = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_path, save(sd))
    os.chmod(out_path, 0o644)  # a shipped asset, readable by everyone (mkstemp creates 0600)
    # evaluate the weights exactly as shipped (fp16 -> fp32)
    backbone = load_shapes_clip(out_path)
    acc = retrieval_top1(backbone, hf, hc)
    manifest = {
        "name": "shapes-clip",
        "file": out_path.name,
        "sha256": sha256_file(out_path),
        "format": "safetensors, float16",
        "config": SHAPES_CLIP_CONFIG,
        "tokenizer": "open_clip SimpleTokenizer (BPE, 49408 tokens)",
        "command": f"python -m vbench_lite train --detector shapes-clip --steps {steps} --seed {seed}",
        "seed": seed,
        "steps": steps,
        "batch": BATCH,
        "train_videos": n_videos,
        "train_frames_per_video": list(TRAIN_FRAMES),
        "token_rows_kept": kept,
        "git_commit": git_commit(),
        "torch": torch.__version__,
        "train_seconds": round(time.time() - t0, 1),
        "heldout": {"split": HELDOUT_SPLIT, "frame": HELDOUT_FRAME, **acc},
        "accuracy": acc["text_to_frame_top1"],
    }
    atomic_write_json(out_path.with_suffix(".json"), manifest)
    os.chmod(out_path.with_suffix(".json"), 0o644)
    if ckpt.is_file():
        ckpt.unlink()
    logger.info("shapes-clip held-out text-to-frame top-1 %.3f", acc["text_to_frame_top1"])
    return manifest
