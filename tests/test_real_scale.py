"""Real-scale projections: meta-device builds of the shipped configurations, analytic block FLOPs,
schedules from method descriptions, the paper recipes' transforms and the CLI."""

from __future__ import annotations

import json
import resource

import pytest
import torch

from vbench_lite.cli import main
from vbench_lite.profile.real_scale import (
    SamplingSchedule,
    Stage,
    build,
    list_architectures,
    load_architecture,
    project,
    schedule_from_description,
)
from vbench_lite.profile.real_scale import projection as projection_module
from vbench_lite.profile.real_scale.analytic import dit_block_flops
from vbench_lite.profile.real_scale.count import count_call
from vbench_lite.profile.real_scale.families import latent_grid
from vbench_lite.profile.real_scale.transforms import sned_architecture, vdmini_architecture

TPDIFF = SamplingSchedule((Stage(10, 0.25), Stage(10, 0.5), Stage(10, 1.0)), cfg=True)


def test_shipped_architectures_name_their_sources():
    names = list_architectures()
    assert {"wan2.1-t2v-1.3b", "cogvideox-2b", "ltx-video", "hunyuanvideo", "animatediff-sd15"} <= set(names)
    for name in names:
        arch = load_architecture(name)
        for comp in [arch.denoiser, arch.vae, *arch.text_encoders]:
            assert comp["source"].startswith("huggingface.co/") and comp["source"].endswith(")") or comp["source"].endswith(".json"), comp["source"]
        assert arch.sampling["source"] and arch.latent["source"]


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def test_meta_build_allocates_no_parameter_memory():
    arch = load_architecture("hunyuanvideo")
    before = _max_rss_bytes()
    model = build(arch.denoiser)
    grown = _max_rss_bytes() - before
    n = sum(p.numel() for p in model.parameters())
    assert 12.5e9 < n < 13.2e9  # HunyuanVideo's 13B transformer: 51 GB in fp32 if materialised
    assert all(p.is_meta for p in model.parameters()) and all(b.is_meta for b in model.buffers())
    assert grown < 1e9, f"peak RSS grew by {grown / 2**20:.0f} MiB while building on meta"


def test_transformer_block_flops_match_the_analytic_count():
    arch = load_architecture("wan2.1-t2v-1.3b")
    cfg = arch.denoiser["config"]
    model = build(arch.denoiser)
    block = model.blocks[0]
    d = cfg["num_attention_heads"] * cfg["attention_head_dim"]
    x5 = torch.empty(1, 16, 21, 60, 104, device="meta")  # 81 frames at 480x832
    tokens, context = 21 * 30 * 52, 512
    hidden = torch.empty(1, tokens, d, device="meta")
    text = torch.empty(1, context, d, device="meta")
    temb = torch.empty(1, 6, d, device="meta")
    rope = model.rope(x5)
    cost = count_call(lambda: block(hidden, text, temb, rope))
    ref = dit_block_flops(tokens, d, cfg["ffn_dim"], context)
    assert cost.total == pytest.approx(ref.total, rel=1e-3)
    assert cost.attention == pytest.approx(ref.attention, rel=1e-3)
    assert cost.matmul == pytest.approx(ref.projections + ref.mlp, rel=1e-3)


def test_projection_is_deterministic_and_counts_every_call():
    arch = load_architecture("wan2.1-t2v-1.3b")  # the shapes of test_cli_profile_architecture (cached there)
    first = project(arch, TPDIFF, 17, 240, 416).to_dict()
    projection_module._cost.cache_clear()
    projection_module._built.cache_clear()
    again = project(arch, TPDIFF, 17, 240, 416)
    assert again.to_dict() == first
    denoise = [p for p in again.parts if p.stage == "denoise"]
    assert [p.calls for p in denoise] == [20, 20, 20]  # 10 steps x (cond + uncond) per stage
    assert [p.grid.frames for p in denoise] == [2, 3, 5]  # ceil of 5 latent frames x 1/4, 1/2, 1
    assert (denoise[0].grid.height, denoise[0].grid.width) == (30, 52)
    assert again.by_stage["denoise"] == sum(p.calls * p.per_call.total for p in denoise)
    assert [p.calls for p in again.parts if p.stage == "text"] == [2]  # prompt + negative prompt
    assert again.attention < again.total - again.convolution


def test_schedule_from_description_and_rescaling():
    info = {"method": "tpdiff", "steps": 30, "cfg_scale": 4.0, "nfe": 60, "frames": 16, "resolution": 32,
            "stages": [{"frames": 4, "steps": 10}, {"frames": 8, "steps": 10}, {"frames": 16, "steps": 10}]}
    sched = schedule_from_description(info)
    assert sched.stages == TPDIFF.stages and sched.cfg and sched.nfe == 60
    assert [s.steps for s in sched.with_steps(50).stages] == [16, 17, 17]  # leftovers to the costliest stages
    base = schedule_from_description({"method": "baseline", "steps": 30, "cfg_scale": 1.0, "nfe": 30})
    assert base.nfe == 30 and not base.cfg
    with pytest.raises(ValueError, match="NFE 59"):
        schedule_from_description({**info, "nfe": 59})


def test_paper_recipe_transforms():
    assert vdmini_architecture(load_architecture("wan2.1-t2v-1.3b")) is None  # a DiT has no levels
    unet = vdmini_architecture(load_architecture("animatediff-sd15"))
    model = build(unet.denoiser)
    assert [len(b.resnets) for b in model.down_blocks] == [1, 1, 2, 2]
    assert [len(b.resnets) for b in model.up_blocks] == [3, 3, 2, 2]
    half = sned_architecture(load_architecture("ltx-video"), width=0.5)
    cfg = half.denoiser["config"]
    assert cfg["num_attention_heads"] == 16 and cfg["cross_attention_dim"] == 16 * 64
    assert "width x0.5" in half.changes[-1]


def test_latent_grid_rejects_sizes_the_vae_cannot_take():
    arch = load_architecture("wan2.1-t2v-1.3b")
    assert latent_grid(arch, 81, 480, 832).frames == 21
    with pytest.raises(ValueError, match="4k\\+1"):
        latent_grid(arch, 80, 480, 832)
    with pytest.raises(ValueError, match="divisible by 16"):
        latent_grid(arch, 81, 480, 830)


def test_cli_profile_architecture(tmp_path, capsys):
    code = main(["profile", "--method", "tpdiff", "--architecture", "wan2.1-t2v-1.3b", "--frames", "17",
                 "--resolution", "240x416", "--out", str(tmp_path), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schedule"]["nfe"] == 60 and len(out["schedule"]["stages"]) == 3
    assert out["flop_ratio_reference_over_method"] == out["reference_flops_per_video"] / out["flops_per_video"] > 1.3
    assert (tmp_path / "profiles" / "tpdiff" / "real_scale" / "wan2.1-t2v-1.3b.json").is_file()


@pytest.mark.parametrize("argv, message", [
    (["--architecture", "wan-9000"], "unknown architecture 'wan-9000'"),
    (["--architecture", "wan2.1-t2v-1.3b", "--frames", "80"], "4k+1"),
    (["--architecture", "wan2.1-t2v-1.3b", "--resolution", "480by832"], "is not a resolution"),
    (["--architecture", "wan2.1-t2v-1.3b", "--steps", "0"], "--steps must be at least 1"),
])
def test_cli_profile_architecture_bad_input(tmp_path, capsys, argv, message):
    try:
        code = main(["profile", "--method", "baseline", "--out", str(tmp_path), *argv])
    except SystemExit as exc:  # argparse rejects a malformed value itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_measured_gpu_speedups_refuse_smoke_tests_and_other_sizes():
    from vbench_lite.profile.real_scale.table import measured_speedups

    rows = [{"method": "baseline", "measured_speedup": 1.0}, {"method": "tpdiff", "measured_speedup": 1.8}]
    report = {"schema": "vbench_lite.real_scale_gpu/1", "depth_multiplier": 1.0,
              "architectures": {"wan2.1-t2v-1.3b": {"frames": 81, "height": 480, "width": 832, "rows": rows}}}
    assert measured_speedups(report)[("wan2.1-t2v-1.3b", "tpdiff")] == 1.8
    with pytest.raises(ValueError, match="smoke test"):
        measured_speedups({**report, "depth_multiplier": 0.04})
    small = {"wan2.1-t2v-1.3b": {"frames": 17, "height": 480, "width": 832, "rows": rows}}
    with pytest.raises(ValueError, match="timed wan2.1-t2v-1.3b at 17x480x832"):
        measured_speedups({**report, "architectures": small})


class _Sampler:  # the fields of the backbone's FlowSampler that a schedule reads
    def __init__(self, steps: int, solver: str, cfg_scale: float, ends_at_zero: bool = True) -> None:
        self.steps, self.guided = steps, cfg_scale != 1.0
        corrected = steps - (1 if ends_at_zero else 0) if solver == "heun" else 0
        self.nfe = (steps + corrected) * (2 if self.guided else 1)


def test_schedule_from_sampler_objects_counts_multi_evaluation_solvers():
    pyramid = SamplingSchedule.from_samplers([_Sampler(10, "euler", 4.0)] * 3, [0.25, 0.5, 1.0])
    assert pyramid.stages == TPDIFF.stages and pyramid.nfe == 60
    heun = SamplingSchedule.from_samplers([_Sampler(10, "heun", 1.0)])
    assert heun.nfe == 19 and heun.stages[0].evaluations == 19
    assert heun.with_steps(50).nfe == 99  # 49 corrected steps + the final Euler step
    two = SamplingSchedule.from_samplers([_Sampler(5, "heun", 4.0, ends_at_zero=False), _Sampler(5, "heun", 4.0)], [0.5, 1.0])
    assert [s.evaluations for s in two.stages] == [10, 9] and two.nfe == 38
    assert schedule_from_description({"steps": 10, "cfg_scale": 4.0, "nfe": 38, "sampler": "heun"}).nfe == 38
    with pytest.raises(ValueError, match="all use CFG"):
        SamplingSchedule.from_samplers([_Sampler(5, "euler", 4.0), _Sampler(5, "euler", 1.0)], [0.5, 1.0])


@pytest.mark.parametrize("name, frames_scales", [("baseline", [1.0]), ("tpdiff", [0.25, 0.5, 1.0])])
def test_backbone_methods_declare_their_schedule_from_their_samplers(name, frames_scales):
    import vbench_lite

    adapter = vbench_lite.load_method(name)
    adapter.load("cpu")
    sched = adapter.schedule()
    assert [s.frames_scale for s in sched.stages] == frames_scales
    assert sched.nfe == adapter.describe()["nfe"] == sum(s.nfe for s in adapter.generator.samplers)
    assert sched.stages == schedule_from_description(adapter.describe()).stages  # describe() says the same
