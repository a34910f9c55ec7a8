from __future__ import annotations

import pytest
import torch

from vbench_lite.methods.backbone.autoencoder import AutoencoderConfig, FrameAutoencoder
from vbench_lite.methods.backbone.flow_task import FlowMatchingTask, FlowRecipe
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.unet import UNetConfig
from vbench_lite.methods.tpdiff.pyramid import PyramidSchedule
from vbench_lite.methods.tpdiff.sampler import PyramidVideoGenerator, pyramid_samplers
from vbench_lite.methods.tpdiff.task import TPDiffTask
from vbench_lite.suites.shapes import ShapesSuite

TINY = UNetConfig(widths=(8, 16), emb_dim=32, pos_dim=8, head_channels=8)


def _model() -> VideoDiffusion:
    torch.manual_seed(0)
    return VideoDiffusion(TINY).eval()


def _generator(steps: int = 6, micro_batch: int = 4) -> PyramidVideoGenerator:
    ae = FrameAutoencoder(AutoencoderConfig(widths=(8, 8))).eval()
    sched = PyramidSchedule(3)
    return PyramidVideoGenerator(_model(), ae, pyramid_samplers(sched, steps, cfg_scale=2.0), sched,
                                 micro_batch=micro_batch)


def test_three_stage_sampler_sees_quarter_half_full_frames() -> None:
    gen = _generator(steps=6)
    seen: list[tuple[int, tuple[int, ...]]] = []
    original = gen.model.unet.forward

    def spy(x, t, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((x.shape[2], tuple(kwargs["frame_index"].tolist())))
        return original(x, t, *args, **kwargs)

    gen.model.unet.forward = spy  # type: ignore[method-assign]
    video = gen.generate(["a red circle moving left slowly on a black background"], [3], 16, 32)
    assert video.shape == (1, 16, 3, 32, 32) and video.dtype == torch.uint8
    # 2 Euler steps per stage, one CFG call each: frame counts 4, 4, 8, 8, 16, 16
    assert [f for f, _ in seen] == [4, 4, 8, 8, 16, 16]
    assert gen.nfe == 2 * len(seen) == 12  # derived from the stage samplers; a CFG call is two evaluations
    # absolute frame positions: frame n of stage k sits at n * 2**k
    assert seen[0][1] == (0, 4, 8, 12) and seen[2][1] == (0, 2, 4, 6, 8, 10, 12, 14)
    assert seen[-1][1] == tuple(range(16))


def test_pyramid_videos_are_batch_invariant() -> None:
    gen = _generator(steps=3)
    prompts = ["a red circle moving left slowly on a black background", "a blue square standing still on a gray background",
               "a cyan cross moving up quickly on a white background"]
    alone = gen.generate(prompts[1:2], [11], 16, 32)
    together = gen.generate(prompts, [10, 11, 12], 16, 32)
    assert torch.equal(alone[0], together[1])


def test_steps_must_split_over_stages() -> None:
    with pytest.raises(ValueError, match="split equally over 3 stages"):
        _generator(steps=10)


def _clips(n: int = 16) -> LatentClips:
    suite = ShapesSuite()
    items = suite.items("train", n)
    g = torch.Generator().manual_seed(0)
    # structured latents (per-clip constant pattern drifting over frames), cheap and learnable
    base = torch.randn(n, 4, 1, 8, 8, generator=g)
    latents = base + 0.1 * torch.arange(16).view(1, 1, 16, 1, 1) * base.roll(1, -1)
    return LatentClips(latents, [it.prompt for it in items], [it.seed for it in items], "test", "none")


def test_tpdiff_batch_groups_and_alignment() -> None:
    task = TPDiffTask(_model().train(), _clips(), FlowRecipe(batch_size=12), PyramidSchedule(3), align=True)
    batch = task.batch(0, torch.Generator().manual_seed(5))
    assert sum(len(g.x0) for g in batch.groups) == 12
    for g in batch.groups:
        sched = task.schedule
        assert g.eps.shape[2] == 16 // 2**g.stage
        assert ((g.t >= sched.end(g.stage)) & (g.t <= sched.start(g.stage))).all()
    # same step, same generator seed -> same batch (resumable training)
    again = task.batch(0, torch.Generator().manual_seed(5))
    assert all(torch.equal(a.eps, b.eps) for a, b in zip(batch.groups, again.groups))


def test_tpdiff_training_lowers_loss() -> None:
    recipe = FlowRecipe(batch_size=6)
    task = TPDiffTask(_model().train(), _clips(), recipe, PyramidSchedule(3), align=True)
    opt = torch.optim.AdamW(task.model.parameters(), lr=3e-3)
    fixed = task.batch(0, torch.Generator().manual_seed(1))  # one batch: the loss on it must fall
    losses = []
    for _ in range(8):
        loss = task.denoiser_loss(fixed, None)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0], losses


def _step_flops(task, batch) -> float:  # type: ignore[no-untyped-def]
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        task.denoiser_loss(batch, None).backward()
    return float(counter.get_total_flops())


def test_training_flops_per_step_against_the_baseline() -> None:
    """Uniform stages cost (1/4 + 1/2 + 1) / 3 = 0.583 of a full-rate example, up to per-call overheads."""
    recipe = FlowRecipe(batch_size=6)
    tp = TPDiffTask(_model().train(), _clips(), recipe, PyramidSchedule(3), align=False)
    batch = tp.batch(0, torch.Generator().manual_seed(0))
    # a balanced composition: two examples in each stage
    from vbench_lite.methods.tpdiff.task import PyramidBatch, PyramidGroup

    x0, ids = tp.clips.latents[:2], tp.ids[:2]
    groups = [PyramidGroup(k, x0, ids, torch.full((2,), tp.schedule.end(k) + 0.1),
                           torch.randn(2, 4, 16 // 2**k, 8, 8)) for k in (2, 1, 0)]
    balanced = PyramidBatch(groups, 6)
    base = FlowMatchingTask(_model().train(), _clips(), recipe)
    ratio = _step_flops(tp, balanced) / _step_flops(base, base.sample_batch(torch.Generator().manual_seed(0)))
    assert 0.5 < ratio < 0.65, ratio
    assert batch.size == 6


def test_stratified_stages_are_uniform_per_example() -> None:
    from vbench_lite.methods.tpdiff.task import stratified_stages

    g = torch.Generator().manual_seed(0)
    draws = torch.stack([stratified_stages(32, 3, g) for _ in range(3000)])
    counts = torch.stack([(draws == k).float().mean(0) for k in range(3)])  # [stage, position]
    assert torch.allclose(counts, torch.full_like(counts, 1 / 3), atol=0.04)  # every example uniform
    sizes = {tuple(torch.bincount(d, minlength=3).tolist()) for d in draws}
    assert sizes == {(11, 11, 10), (11, 10, 11), (10, 11, 11)}  # only three compositions
