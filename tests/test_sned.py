"""SNED: the search space, the cost-bucket sampler and warm-up, the supernet task, the adapter's
presets and custom subnets (on a randomly initialised supernet of the shipped UNet's shape)."""

from __future__ import annotations

import collections
import copy
import math
from pathlib import Path

import pytest
import torch

from vbench_lite.methods.backbone.model import VideoDiffusion
from vbench_lite.methods.backbone.recipe import UNET
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.backbone.slicing import materialize, subnet
from vbench_lite.methods.backbone.tiny import randomize, save_checkpoint_pair
from vbench_lite.methods.sned import SNEDMethod
from vbench_lite.methods.sned.cost_sampling import CostBuckets, SamplingWarmup, SupernetSampler
from vbench_lite.methods.sned.presets import PRESETS
from vbench_lite.methods.sned.search_space import RESOLUTIONS, SearchSpace, SubnetArch, denoiser_flops
from vbench_lite.spec import GenerationSpec

SPACE = SearchSpace(UNET)
PROMPTS = ["a red circle moving left slowly on a black background", "a blue square standing still on a gray background"]


@pytest.fixture(scope="module")
def supernet() -> VideoDiffusion:
    torch.manual_seed(0)
    return randomize(VideoDiffusion(UNET), seed=1, std=0.1).eval()


def _inputs(model: VideoDiffusion, latent: int, b: int = 2, t: int = 4):  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(latent)
    x = torch.randn(b, 4, t, latent, latent, generator=g)
    with torch.no_grad():
        text = model.encode_text(model.tokenize(PROMPTS[:b]))
    return x, torch.rand(b, generator=g), text


# -- search space ----------------------------------------------------------------------------------
def test_width_choices_are_the_multipliers_of_each_level() -> None:
    assert SPACE.width_choices == ((8, 12, 16), (24, 36, 48))
    assert len(SPACE.skippable()) == 21
    for name, arch in PRESETS.items():  # every preset is a subnet of the space, at the resolution it is named by
        assert SPACE.check(arch) == arch and name.endswith(f"-{arch.resolution}")
    assert {"s-32", "m-32", "l-32"} <= set(PRESETS)


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_sliced_subnet_with_skips_equals_the_standalone_module(supernet, resolution) -> None:  # type: ignore[no-untyped-def]
    arch = SubnetArch((12, 36), ("down.1.xattn.0", "up.0.temporal.1", "mid.res.0"), resolution)
    x, t, text = _inputs(supernet, arch.latent)
    net = subnet(supernet.unet, arch.widths, arch.skip, arch.resolution)
    small = materialize(supernet.unet, arch.widths, arch.skip)
    with torch.no_grad():
        out = net(x, t, *text)
        assert torch.equal(out, small(x, t, *text))
        assert not torch.allclose(out, supernet.unet(x, t, *text))  # it is a different network
    assert net.num_parameters() == sum(p.numel() for p in small.parameters())


@pytest.mark.parametrize("block", ["down.0.res.1", "down.1.temporal.0", "up.1.xattn.1", "mid.res.0"])
def test_a_skipped_block_is_the_identity(supernet, block) -> None:  # type: ignore[no-untyped-def]
    x, t, text = _inputs(supernet, 8)
    identity = copy.deepcopy(supernet.unet)
    identity.get_submodule(block).forward = lambda h, c: h  # the block replaced by the identity
    with torch.no_grad():
        skipped = subnet(supernet.unet, (12, 36), (block,))(x, t, *text)
        assert torch.equal(skipped, subnet(identity, (12, 36))(x, t, *text))
        assert not torch.allclose(skipped, subnet(supernet.unet, (12, 36))(x, t, *text))


def test_flops_fall_monotonically_with_width_and_skips(supernet) -> None:  # type: ignore[no-untyped-def]
    for res in RESOLUTIONS:
        by_mult = [denoiser_flops(supernet.unet, SPACE.uniform(m, res)) for m in (1.0, 0.75, 0.5)]
        assert by_mult[0] > by_mult[1] > by_mult[2] > 0, (res, by_mult)
        for level in range(2):  # narrowing one level alone also costs less
            wide = list(SPACE.largest(res).widths)
            costs = []
            for w in reversed(SPACE.width_choices[level]):
                wide[level] = w
                costs.append(denoiser_flops(supernet.unet, SubnetArch(tuple(wide), (), res)))
            assert costs == sorted(costs, reverse=True) and len(set(costs)) == 3
        full = by_mult[0]
        assert denoiser_flops(supernet.unet, SPACE.uniform(1.0, res, ["down.1.res.0"])) < full
    assert denoiser_flops(supernet.unet, SPACE.largest(24)) < denoiser_flops(supernet.unet, SPACE.largest(48))


def test_bad_architectures_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="not a SNED width choice"):
        SPACE.check(SubnetArch((16, 40), (), 32))
    with pytest.raises(ValueError, match="cannot skip"):
        SPACE.check(SubnetArch((16, 48), ("down.0.downsample",), 32))
    with pytest.raises(ValueError, match="not in SNED's search space"):
        SubnetArch((16, 48), (), 64)


def test_training_pool_is_seeded_and_covers_every_shape() -> None:
    pool = SPACE.training_pool(seed=0)
    assert pool == SPACE.training_pool(seed=0) and pool != SPACE.training_pool(seed=1)
    assert {(a.resolution, a.widths) for a in pool} == set(SPACE.shapes())
    assert all(len(a.skip) <= 4 for a in pool) and len(set(pool)) == len(pool) == 27 * 8


# -- dynamic cost sampling -------------------------------------------------------------------------
def _buckets(rates=None) -> CostBuckets:  # type: ignore[no-untyped-def]
    pool = SPACE.training_pool(seed=0)
    flops = [int(1e8 * (a.resolution / 32) ** 2 * (a.widths[1] / 48) ** 2 * (1 - 0.03 * len(a.skip))) for a in pool]
    return CostBuckets(pool, flops, 4, rates)


def test_cost_buckets_are_drawn_at_their_configured_rates() -> None:
    rates = (0.1, 0.2, 0.3, 0.4)
    buckets = _buckets(rates)
    g = torch.Generator().manual_seed(0)
    n = 10_000
    counts = collections.Counter()
    for _ in range(n):
        b, arch = buckets.draw(g)
        assert buckets.edges[b] <= buckets.flops_of(arch) <= buckets.edges[b + 1]
        counts[b] += 1
    for b, r in enumerate(rates):  # within 4 binomial standard deviations
        assert abs(counts[b] - n * r) < 4 * math.sqrt(n * r * (1 - r)), (b, counts)
    uniform = _buckets()
    counts = collections.Counter(uniform.draw(g)[0] for _ in range(n))
    assert all(abs(counts[b] - n / 4) < 4 * math.sqrt(n * 0.25 * 0.75) for b in range(4)), counts


def test_cost_buckets_refuse_bad_rates_and_empty_buckets() -> None:
    with pytest.raises(ValueError, match="summing to 1"):
        _buckets((0.5, 0.5, 0.5, 0.5))
    pool = [SPACE.largest(32), SPACE.uniform(0.5, 32)]
    with pytest.raises(ValueError, match="hold no architecture"):
        CostBuckets(pool, [100, 1000], 3)


def test_sampling_warmup_trains_the_largest_first_then_ramps() -> None:
    warm = SamplingWarmup(warmup_steps=100, ramp_steps=100, final_share=0.75)
    assert [warm.share(s) for s in (0, 99)] == [0.0, 0.0]
    assert warm.share(100) == pytest.approx(0.0075) and warm.share(149) == pytest.approx(0.375)
    assert warm.share(199) == warm.share(5000) == 0.75
    sampler = SupernetSampler(SPACE, _buckets(), warm)
    g = torch.Generator().manual_seed(0)
    early = [sampler.draw(s, g) for s in range(100)]
    assert all(d.buckets == (-1,) and d.archs[0].widths == (16, 48) and not d.archs[0].skip for d in early)
    assert {d.archs[0].resolution for d in early} == set(RESOLUTIONS)
    late = [sampler.draw(1000, g).buckets[0] for _ in range(4000)]
    assert abs(sum(b >= 0 for b in late) / 4000 - 0.75) < 0.03
    sandwich = SupernetSampler(SPACE, _buckets(), warm, sandwich=True).draw(0, g)
    assert sandwich.archs[0].widths == (16, 48) and sandwich.archs[1].widths == (8, 24) and sandwich.buckets[2] >= 0


def test_supernet_task_trains_the_drawn_subnet_and_replays_its_draws(supernet) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.backbone.latents import LatentClips
    from vbench_lite.methods.sned.recipe import replay_draws
    from vbench_lite.methods.sned.task import SupernetTask

    model = copy.deepcopy(supernet).train().requires_grad_(True)
    clips = {r: LatentClips(torch.randn(4, 4, 4, r // 4, r // 4), PROMPTS * 2, [0, 1, 2, 3], f"k{r}") for r in RESOLUTIONS}
    sampler = SupernetSampler(SPACE, _buckets(), SamplingWarmup(0, 0, 1.0))
    task = SupernetTask(model, clips, FlowRecipe(batch_size=2), sampler)
    replay = replay_draws(sampler, 3, seed=5)
    for step in range(3):
        batch = task.batch(step, torch.Generator().manual_seed(5 * 1_000_003 + step))
        assert batch.draw == replay[step]
        arch = batch.draw.archs[0]
        assert batch.batches[0].x0.shape[-1] == arch.latent
    model.zero_grad()
    task.arch_loss(SPACE.uniform(0.5, 24), task._flow_batch(24, torch.Generator().manual_seed(0))).backward()
    w = model.unet.get_submodule("down.1.res.0.conv1").weight.grad
    assert w[:24, :24].abs().sum() > 0 and w[24:].abs().sum() == 0  # only the 0.5x subnet's channels


def _clips(resolutions=RESOLUTIONS):  # type: ignore[no-untyped-def]
    from vbench_lite.methods.backbone.latents import LatentClips

    return {r: LatentClips(torch.randn(4, 4, 4, r // 4, r // 4, generator=torch.Generator().manual_seed(r)),
                           PROMPTS * 2, [0, 1, 2, 3], f"k{r}") for r in resolutions}


def test_teacher_distillation_is_zero_when_the_student_is_the_teacher(supernet) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.sned.task import SupernetTask, TeacherDistillTask

    teacher = copy.deepcopy(supernet)
    student = copy.deepcopy(supernet).train().requires_grad_(True)
    sampler = SupernetSampler(SPACE, _buckets(), SamplingWarmup(0, 0, 1.0))
    task = SupernetTask(student, _clips(), FlowRecipe(batch_size=2), sampler, teacher=teacher, teacher_distill=1.0)
    for res in RESOLUTIONS:  # the largest network at every resolution computes the teacher exactly
        batch = task._flow_batch(res, torch.Generator().manual_seed(res))
        assert float(task.arch_loss(SPACE.largest(res), batch).detach()) == 0.0
        assert float(task.arch_loss(SPACE.uniform(0.75, res), batch).detach()) > 0  # a subnet is not the teacher
    alone = TeacherDistillTask(student, teacher, _clips((32,))[32], FlowRecipe(batch_size=2), 1.0)
    batch = alone.sample_batch(torch.Generator().manual_seed(0))
    assert float(alone.denoiser_loss(batch, None).detach()) == 0.0  # type: ignore[arg-type]
    # d = 0 is plain flow matching; d mixes the two terms linearly
    flow = SupernetTask(student, _clips(), FlowRecipe(batch_size=2), sampler)
    arch, b = SPACE.uniform(0.5, 24), task._flow_batch(24, torch.Generator().manual_seed(1))
    half = SupernetTask(student, _clips(), FlowRecipe(batch_size=2), sampler, teacher=teacher, teacher_distill=0.5)
    kd = task.arch_loss(arch, b)
    torch.testing.assert_close(half.arch_loss(arch, b), 0.5 * flow.arch_loss(arch, b) + 0.5 * kd)


def test_the_frozen_teacher_gets_no_gradient_and_every_arch_distils(supernet) -> None:  # type: ignore[no-untyped-def]
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.sned.task import SupernetTask, TeacherDistillTask

    teacher = copy.deepcopy(supernet).train().requires_grad_(True)  # the task freezes it
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = copy.deepcopy(supernet).train().requires_grad_(True)
    with torch.no_grad():  # move the student away from the teacher so the distillation term is non-zero
        for p in student.unet.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    sampler = SupernetSampler(SPACE, _buckets(), SamplingWarmup(0, 0, 1.0))
    task = SupernetTask(student, _clips(), FlowRecipe(batch_size=2), sampler, teacher=teacher, teacher_distill=1.0)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    loss = task.arch_loss(SPACE.largest(32), task._flow_batch(32, torch.Generator().manual_seed(0)))
    assert float(loss.detach()) > 0  # the largest network distils too (OFA), unlike BigNAS's in-place rule
    loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert student.unet.get_submodule("down.1.res.0.conv1").weight.grad.abs().sum() > 0
    small = copy.deepcopy(student)
    small.unet = materialize(student.unet, (12, 36)).requires_grad_(True)
    alone = TeacherDistillTask(small, teacher, _clips((32,))[32], FlowRecipe(batch_size=2), 0.5)
    alone.denoiser_loss(alone.sample_batch(torch.Generator().manual_seed(0)), None).backward()  # type: ignore[arg-type]
    assert all(p.grad is None for p in teacher.parameters())
    assert all(torch.equal(v, before[k]) for k, v in teacher.state_dict().items())
    assert alone.config()["teacher_distill"] == 0.5 and task.config()["sned"]["teacher_distill"] == 1.0


def test_distillation_options_are_checked() -> None:
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.sned.recipe import run_name
    from vbench_lite.methods.sned.task import SupernetTask

    model = VideoDiffusion(UNET)
    sampler = SupernetSampler(SPACE, _buckets(), SamplingWarmup(0, 0, 1.0))
    with pytest.raises(ValueError, match="not both"):
        SupernetTask(model, _clips(), FlowRecipe(batch_size=2), sampler, distill=0.5, teacher=model, teacher_distill=0.5)
    with pytest.raises(ValueError, match="needs the frozen teacher"):
        SupernetTask(model, _clips(), FlowRecipe(batch_size=2), sampler, teacher_distill=0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        SupernetTask(model, _clips(), FlowRecipe(batch_size=2), sampler, teacher=model, teacher_distill=1.5)
    # the loss is in the run folder's name: a cache of the plain flow-matching run is never resumed
    assert run_name(None, 0.5) == "sned-ofa-kd0.5" and run_name("no-warmup", 0.0) == "sned-no-warmup"


# -- the adapter -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, supernet) -> Path:  # type: ignore[no-untyped-def]
    sampler = FlowSampler(times=(1.0, 0.5, 0.0), cfg_scale=2.0)
    return save_checkpoint_pair(tmp_path_factory.mktemp("sned"), supernet, sampler.to_config(),
                                {"frames": 16, "resolution": 32})


def _method(root: Path, **kw) -> SNEDMethod:  # type: ignore[no-untyped-def]
    m = SNEDMethod(weights=root / "model", autoencoder=root / "ae", **kw)
    m.micro_batch = 2
    m.load("cpu")
    return m


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_generates_at_its_resolution(checkpoint, preset) -> None:  # type: ignore[no-untyped-def]
    m = _method(checkpoint, variant=preset)
    arch = PRESETS[preset]
    spec = m.generation_spec() or GenerationSpec()  # None at 32 px: the harness's default spec
    assert spec == GenerationSpec(frames=16, resolution=arch.resolution) and m.resolution == arch.resolution
    assert (m.generation_spec() is None) == (arch.resolution == 32)
    video = m.generate(PROMPTS[:1], [3], spec)
    assert video.shape == (1, 16, 3, arch.resolution, arch.resolution) and video.dtype == torch.uint8
    info = m.describe()
    assert info["resolution"] == arch.resolution and info["sned"]["arch"] == arch.to_dict()
    # the weights of its own subnet: its widths, less its skipped blocks
    whole = subnet(m.generator.model.unet.unet, arch.widths)
    assert info["params_breakdown"]["unet"] == whole.num_parameters(arch.skip)
    assert (info["params_breakdown"]["unet"] < whole.num_parameters()) == bool(arch.skip)
    other = next(r for r in RESOLUTIONS if r != arch.resolution)
    with pytest.raises(ValueError, match=f"use {arch.resolution}"):
        m.generate(PROMPTS[:1], [3], GenerationSpec(resolution=other))


def test_presets_cost_less_by_size(checkpoint, supernet) -> None:  # type: ignore[no-untyped-def]
    for res in RESOLUTIONS:
        names = [f"{size}-{res}" for size in "sml" if f"{size}-{res}" in PRESETS]
        flops = [denoiser_flops(supernet.unet, PRESETS[n]) for n in names]
        assert flops == sorted(flops) and len(set(flops)) == len(flops), (names, flops)
    # the adapter reports the weights of its own subnet
    params = {p: _method(checkpoint, variant=p).describe()["params"] for p in ("s-32", "l-32")}
    assert params["s-32"] < params["l-32"]


def test_a_custom_subnet_is_accepted_by_the_python_api(checkpoint) -> None:  # type: ignore[no-untyped-def]
    arch = SubnetArch((12, 24), ("down.1.temporal.0", "up.0.res.1"), 48)
    m = _method(checkpoint, arch=arch)
    assert m.full_name.startswith("sned[") and m.generation_spec().resolution == 48
    a = m.generate(PROMPTS, [1, 2], m.generation_spec())
    assert a.shape == (2, 16, 3, 48, 48)
    # a video depends only on its (prompt, seed), not on the batch it was generated in
    assert torch.equal(a[1:], m.generate(PROMPTS[1:], [2], m.generation_spec()))
    assert m.describe()["skip"] == sorted(arch.skip)
    with pytest.raises(ValueError, match="not a SNED width choice"):
        SNEDMethod(arch=SubnetArch((16, 40), (), 32))
    with pytest.raises(ValueError, match="not both"):
        SNEDMethod(variant="s-32", arch=arch)


def test_pareto_front_keeps_the_undominated_points() -> None:
    from vbench_lite.methods.sned.search import Candidate, pareto_front

    def c(g: float, k: float, w: int) -> Candidate:
        return Candidate(SubnetArch((8, w), (), 32), g, 0, {"kvd": k})

    pts = [c(1.0, 50, 24), c(2.0, 40, 36), c(2.5, 45, 48), c(3.0, 30, 36), c(3.0, 30, 24)]
    front = pareto_front(pts)
    assert [(p.gflops, p.metrics["kvd"]) for p in front] == [(1.0, 50), (2.0, 40), (3.0, 30), (3.0, 30)]


def test_search_candidates_hold_every_preset() -> None:
    from vbench_lite.methods.sned.search import candidates

    for all_widths in (False, True):
        cands = candidates(SPACE, all_widths=all_widths)
        assert set(PRESETS.values()) <= set(cands) and len(set(cands)) == len(cands)
        assert {a.resolution for a in cands if a.skip} == set(RESOLUTIONS)


def test_presets_are_named_on_the_front() -> None:
    from vbench_lite.methods.sned.search import Candidate, pareto_front, pick_presets

    def c(g: float, k: float, w: int, skip: tuple[str, ...] = ()) -> Candidate:
        return Candidate(SubnetArch((8, w), skip, 32), g, 0, {"kvd": k})

    pts = [c(1.0, 90, 24), c(2.0, 60, 36), c(3.9, 50, 36, ("mid.res.0",)), c(4.0, 20, 48), c(3.0, 95, 48, ("mid.res.0",))]
    picks = pick_presets(pareto_front(pts), pts)
    assert {k: v.gflops for k, v in picks.items()} == {"s": 1.0, "m": 2.0, "l": 4.0}  # m: nearest sqrt(1 * 4) = 2
    two = [pts[0], pts[3], pts[4]]  # front: 1.0 and 4.0 (3.0 is dominated by 1.0); m: the best one between them
    assert len(pareto_front(two)) == 2
    assert {k: v.gflops for k, v in pick_presets(pareto_front(two), two).items()} == {"s": 1.0, "m": 3.0, "l": 4.0}
    assert list(pick_presets([pts[3]])) == ["l"] and pick_presets([]) == {}
