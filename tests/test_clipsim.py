"""CLIPSIM: preprocessing, the shipped shapes-clip, and ViT-B-32 through the real loading code."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vbench_lite.fsutil import sha256_file
from vbench_lite.metrics.base import MetricContext
from vbench_lite.metrics.clip_models import (
    SHAPES_CLIP_MANIFEST,
    SHAPES_CLIP_WEIGHTS,
    clip_preprocess,
    load_shapes_clip,
    load_vit_b_32,
)
from vbench_lite.metrics.clipsim import CLIPSIM, clipsim, clipsim_scores
from vbench_lite.suites.shapes import ShapesSuite


@pytest.fixture(scope="module")
def shapes_clip():
    return load_shapes_clip()


@pytest.fixture(scope="module")
def reference():
    suite = ShapesSuite()
    items = suite.items("reference", 128)
    return items, suite.render(items)


def _smooth_image(h: int, w: int) -> torch.Tensor:
    y, x = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    img = torch.stack([x, y, (x + y) / 2]) * 200 + 20 * torch.sin(12 * x) * torch.cos(9 * y) + 20
    return img.round().clamp(0, 255).to(torch.uint8)


def test_preprocessing_matches_open_clip_transform() -> None:
    from open_clip.transform import image_transform
    from PIL import Image

    img = _smooth_image(200, 300)
    ours = clip_preprocess(img[None], 224)[0]
    pil = Image.fromarray(img.permute(1, 2, 0).numpy())
    theirs = image_transform(224, is_train=False)(pil)
    assert ours.shape == theirs.shape == (3, 224, 224)
    diff = (ours - theirs).abs()
    assert diff.mean() < 0.01 and diff.max() < 0.1  # one grey level is 0.015 after CLIP std
    # never raw 0..255: values are CLIP-normalised
    assert ours.min() > -2.0 and ours.max() < 2.3


def test_preprocessing_rejects_float_frames() -> None:
    with pytest.raises(ValueError, match="uint8"):
        clip_preprocess(torch.rand(1, 3, 32, 32), 32)


def test_manifest_matches_shipped_weights(shapes_clip) -> None:
    from vbench_lite.metrics.clip_train import heldout_data, retrieval_top1

    manifest = json.loads(SHAPES_CLIP_MANIFEST.read_text())
    assert manifest["sha256"] == sha256_file(SHAPES_CLIP_WEIGHTS)
    for key in ("command", "seed", "git_commit", "heldout"):
        assert key in manifest
    # the reported held-out accuracy is what the shipped weights really do
    acc = retrieval_top1(shapes_clip, *heldout_data())
    assert acc["text_to_frame_top1"] == pytest.approx(manifest["accuracy"], abs=1e-9)
    assert acc["text_to_frame_top1"] > 0.7  # chance is ~1/150


def test_heldout_retrieval_reaches_target() -> None:
    manifest = json.loads(SHAPES_CLIP_MANIFEST.read_text())
    assert manifest["accuracy"] >= 0.90  # held-out text-to-frame top-1, motion phrase removed


def test_clipsim_is_mean_raw_cosine_over_frames(shapes_clip, reference) -> None:
    items, videos = reference
    v, prompt = videos[0], items[0].prompt
    img = torch.nn.functional.normalize(shapes_clip.model.encode_image(clip_preprocess(v, 32)), dim=-1)
    txt = torch.nn.functional.normalize(shapes_clip.model.encode_text(shapes_clip.tokenize([prompt])), dim=-1)
    expected = float((img @ txt.T).mean())
    assert clipsim(v, prompt, shapes_clip) == pytest.approx(expected, abs=1e-5)


def test_matching_caption_beats_mismatched(shapes_clip, reference) -> None:
    items, videos = reference
    prompts = [it.prompt for it in items]
    shifted = prompts[1:] + prompts[:1]
    match = clipsim_scores(videos, prompts, shapes_clip)
    mismatch = clipsim_scores(videos, shifted, shapes_clip)
    differs = np.array([a != b for a, b in zip(prompts, shifted)])
    assert (match > mismatch)[differs].mean() >= 0.95


def test_batch_size_does_not_change_scores(shapes_clip, reference) -> None:
    items, videos = reference
    prompts, eight = [it.prompt for it in items[:8]], videos[:8]
    whole = clipsim_scores(eight, prompts, shapes_clip)
    parts = np.concatenate([clipsim_scores(eight[i : i + 3], prompts[i : i + 3], shapes_clip) for i in range(0, 8, 3)])
    np.testing.assert_allclose(whole, parts, atol=1e-6)


def test_metric_contract(reference) -> None:
    items, videos = reference
    metric, ctx = CLIPSIM(), MetricContext()
    per = metric.per_video(videos[:4], items[:4], ctx)
    assert per["clipsim"].shape == (4,)
    (res,) = metric.aggregate(per, items[:4], ctx)
    assert res.name == "clipsim" and res.value == pytest.approx(per["clipsim"].mean())
    assert res.protocol["backbone"] == "shapes-clip"
    assert res.protocol["weights_sha256"] == sha256_file(SHAPES_CLIP_WEIGHTS)


def test_missing_prompt_is_an_error(shapes_clip, reference) -> None:
    _, videos = reference
    with pytest.raises(ValueError, match="one prompt per video"):
        clipsim_scores(videos[:2], ["a red circle"], shapes_clip)
    with pytest.raises(ValueError, match="needs a prompt for every video"):
        clipsim_scores(videos[:2], ["a red circle", " "], shapes_clip)


def test_vit_b_32_missing_weights_says_where() -> None:
    with pytest.raises(FileNotFoundError, match="--clip-weights"):
        load_vit_b_32(None)
    with pytest.raises(FileNotFoundError, match="not found at"):
        load_vit_b_32("/nonexistent/ViT-B-32.pt")


@pytest.mark.slow  # ~150M parameters written and read back: 10-35 s on 2 shared cores
def test_vit_b_32_random_weights_round_trip(tmp_path) -> None:
    import open_clip

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None, force_quick_gelu=True).eval()
    path = tmp_path / "vit_b_32_random.pt"
    torch.save(model.state_dict(), path)
    backbone = load_vit_b_32(path, quick_gelu=True)
    assert backbone.weights_sha256 == sha256_file(path)
    frames = _smooth_image(48, 64)[None].repeat(2, 1, 1, 1)
    with torch.no_grad():
        img = torch.nn.functional.normalize(model.encode_image(clip_preprocess(frames, 224)), dim=-1)
        txt = torch.nn.functional.normalize(model.encode_text(open_clip.tokenize(["a red circle"])), dim=-1)
    assert torch.allclose(backbone.encode_images(frames), img, atol=1e-5)
    assert torch.allclose(backbone.encode_texts(["a red circle"]), txt, atol=1e-5)
    video = frames[None]
    expected = float((img @ txt.T).mean())
    assert clipsim(video[0], "a red circle", backbone) == pytest.approx(expected, abs=1e-5)


def test_shapes_clip_out_is_a_file_or_a_folder(tmp_path) -> None:
    from vbench_lite.metrics.clip_models import SHAPES_CLIP_WEIGHTS
    from vbench_lite.metrics.clip_train import weights_path

    assert weights_path(None) == SHAPES_CLIP_WEIGHTS
    assert weights_path(tmp_path / "w.safetensors") == tmp_path / "w.safetensors"
    assert weights_path(tmp_path) == tmp_path / "shapes_clip.safetensors"  # an existing folder
    assert weights_path(str(tmp_path / "new")) == tmp_path / "new" / "shapes_clip.safetensors"
