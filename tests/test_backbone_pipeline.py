"""Batch-invariant generation: a video depends only on its (prompt, seed)."""

from __future__ import annotations

import pytest
import torch

from vbench_lite.methods.backbone.pipeline import LatentVideoGenerator, video_noise
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.backbone.tiny import randomize, tiny_autoencoder, tiny_model
from vbench_lite.profile import listening

PROMPTS = [
    "a red circle moving left slowly on a black background",
    "a blue square moving up quickly on a white background",
    "a green triangle standing still on a gray background",
    "a yellow cross moving down slowly on a black background",
    "a purple circle to the left of a cyan square, both moving right slowly, on a gray background",
    "an unknown zebra dancing",
]
SEEDS = [11, 22, 33, 44, 55, 66]


@pytest.fixture(scope="module")
def generator() -> LatentVideoGenerator:
    ae = randomize(tiny_autoencoder(), std=0.1)
    return LatentVideoGenerator(tiny_model(), ae, FlowSampler.uniform(3, cfg_scale=3.0), micro_batch=4)


def test_output_is_uint8_video(generator):
    v = generator.generate(PROMPTS[:2], SEEDS[:2], frames=4, resolution=32)
    assert v.dtype == torch.uint8 and v.shape == (2, 4, 3, 32, 32)


def test_same_video_in_differently_composed_batches_is_bit_identical(generator):
    full = generator.generate(PROMPTS, SEEDS, frames=4, resolution=32)  # micro-batches [0..3], [4, 5 + pad]
    alone = generator.generate([PROMPTS[3]], [SEEDS[3]], frames=4, resolution=32)
    mixed = generator.generate([PROMPTS[5], PROMPTS[0], PROMPTS[3]], [SEEDS[5], SEEDS[0], SEEDS[3]], 4, 32)
    reordered = generator.generate(PROMPTS[::-1], SEEDS[::-1], frames=4, resolution=32)
    assert torch.equal(alone[0], full[3])
    assert torch.equal(mixed[2], full[3]) and torch.equal(mixed[0], full[5]) and torch.equal(mixed[1], full[0])
    assert torch.equal(reordered.flip(0), full)
    # videos differ between seeds and between prompts
    assert not torch.equal(full[0], full[1])
    other_seed = generator.generate([PROMPTS[0]], [999], frames=4, resolution=32)
    assert not torch.equal(other_seed[0], full[0])


def test_noise_comes_from_each_videos_own_seed():
    n = video_noise([5, 7], (2, 3))
    assert torch.equal(n[0], torch.randn((2, 3), generator=torch.Generator().manual_seed(5)))
    assert torch.equal(n[1], torch.randn((2, 3), generator=torch.Generator().manual_seed(7)))


def test_stages_are_marked(generator):
    seen = []

    class L:
        def enter(self, name):
            seen.append(name)

        def exit(self, name):
            pass

    with listening(L()):
        generator.generate(PROMPTS[:1], SEEDS[:1], frames=4, resolution=32)
    assert seen == ["text", "denoise", "decode"]


@pytest.mark.parametrize(
    "prompts,seeds,match",
    [([], [], "prompts is empty"), (["a"], [1, 2], "prompts and seeds differ in length"), ([3], [1], "strings")],
)
def test_bad_requests_name_the_argument(generator, prompts, seeds, match):
    with pytest.raises(ValueError, match=match):
        generator.generate(prompts, seeds, frames=4, resolution=32)


def test_heun_and_cfg_one_run(generator):
    g = LatentVideoGenerator(generator.model, generator.autoencoder, FlowSampler.uniform(2, solver="heun"),
                             micro_batch=2)
    assert g.nfe == 3
    v = g.generate(PROMPTS[:1], SEEDS[:1], frames=4, resolution=24)
    assert v.shape == (1, 4, 3, 24, 24)
