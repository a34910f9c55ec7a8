"""VDMini: block importance scores, the pruning rule, the ICD loss."""

from __future__ import annotations

import pytest
import torch

from vbench_lite.methods.backbone.tiny import tiny_model
from vbench_lite.methods.vdmini.icd import icd_loss, matched_taps, stage_of
from vbench_lite.methods.vdmini.importance import TEACHER, BlockRow, block_costs, depth_summary, scores
from vbench_lite.methods.vdmini.pruning import prune_shallow_blocks, pruning_units

BLOCKS = ["down.0.res.0", "down.0.temporal.0", "down.0.res.1", "down.0.temporal.1",
          "down.1.res.0", "down.1.temporal.0", "down.1.xattn.0", "mid.res.0",
          "up.1.res.0", "up.1.temporal.0", "up.1.xattn.0",
          "up.0.res.0", "up.0.temporal.0", "up.0.res.1", "up.0.temporal.1"]
REF = {"fvd": 100.0, "kvd": 10.0, "vbench_dynamic_degree": 0.8, "vbench_motion_direction": 1.0,
       "vbench_motion_smoothness": 0.99}


def synthetic_table(fvd: dict[str, float] | None = None, flops: dict[str, float] | None = None,
                    motion: dict[str, float] | None = None) -> dict:
    """An importance table of a 2-level UNet whose per-block numbers the test chooses."""
    rows: dict = {TEACHER: {"metrics": dict(REF), "metric_std": {}}}
    for b in BLOCKS:
        side, level, kind = BlockRow.locate(b, 2)
        m = dict(REF)
        m["fvd"] += (fvd or {}).get(b, 1.0)
        m["vbench_motion_direction"] -= (motion or {}).get(b, 0.0)
        rows[b] = {"block": b, "kind": kind, "side": side, "level": level, "params": 1,
                   "flops_saved": (flops or {}).get(b, 0.02), "latency_saved": 0.03, "metrics": m,
                   "metric_std": {}}
    return {"rows": rows, "levels": 2, "denoiser_params": 100}


def test_locate_blocks() -> None:
    assert BlockRow.locate("down.1.xattn.0", 2) == ("down", 1, "xattn")
    assert BlockRow.locate("mid.res.0", 2) == ("mid", 1, "res")
    assert BlockRow.locate("up.0.temporal.1", 2) == ("up", 0, "temporal")


def test_scores_are_degradations_in_teacher_standard_errors() -> None:
    t = synthetic_table(fvd={"down.0.res.0": 50.0, "mid.res.0": 25.0}, motion={"mid.res.0": 0.5})
    t["rows"][TEACHER]["metric_std"] = {"fvd": 10.0, "kvd": 2.0, "vbench_motion_direction": 0.0}
    t["protocol"] = {"num_videos": 100}
    sc = scores(t)
    assert sc["down.0.res.0"]["content"] == pytest.approx((50.0 / 10.0) / 2)  # FVD only (1 of 2 content measures)
    assert sc["mid.res.0"]["content"] == pytest.approx((25.0 / 10.0) / 2)
    # direction std 0 -> floor 1/N = 0.01: a 0.5 drop is 50 standard errors (1 of 3 motion measures)
    assert sc["mid.res.0"]["motion"] == pytest.approx(50.0 / 3)
    assert sc["down.0.res.0"]["motion"] == 0.0
    assert sc["up.0.res.1"]["content"] == pytest.approx((1.0 / 10.0) / 2)
    summ = depth_summary(t)
    assert summ["deep"]["blocks"] == 7 and summ["shallow"]["blocks"] == 8
    assert summ["observation_holds"]  # the deep block carries the motion degradation


def test_pruning_takes_the_least_important_shallow_pairs_until_the_target() -> None:
    # pair 1 of down.0 and of up.0 are unimportant; pair 0 of both is important
    fvd = {b: (50.0 if b.endswith(".0") and ".0." in b[:7] else 1.0) for b in BLOCKS}
    flops = {b: 0.05 for b in BLOCKS}
    t = synthetic_table(fvd=fvd, flops=flops)
    assert prune_shallow_blocks(t, 0.8) == ["down.0.res.1", "down.0.temporal.1", "up.0.res.1", "up.0.temporal.1"]
    # a smaller cut takes one pair only (ties between the two pair-1 units broken by name)
    assert prune_shallow_blocks(t, 0.9) == ["down.0.res.1", "down.0.temporal.1"]
    assert prune_shallow_blocks(t, 1.0) == []
    # the deepest level and the middle are never candidates
    units = {u.name for u in pruning_units(t)}
    assert "mid.1.pair.0" in units
    assert not set(prune_shallow_blocks(t, 0.6)) & {b for b in BLOCKS if b.startswith(("down.1", "mid", "up.1"))}


def test_pruning_refuses_an_unreachable_target() -> None:
    t = synthetic_table(flops={b: 0.01 for b in BLOCKS})
    with pytest.raises(ValueError, match="lowest reachable target is 0.920"):
        prune_shallow_blocks(t, 0.75)
    with pytest.raises(ValueError, match="fraction"):
        prune_shallow_blocks(t, 1.5)
    with pytest.raises(ValueError, match="unknown pruning cost"):
        prune_shallow_blocks(t, 0.9, cost="params")
    # an interrupted measurement: a shallow block's skip not evaluated yet
    t["costs"] = {b: {} for b in BLOCKS}
    del t["rows"]["up.0.res.1"]
    with pytest.raises(ValueError, match=r"not measured the shallow blocks \['up.0.res.1'\]"):
        prune_shallow_blocks(t, 0.9)
    del t["rows"]["up.1.res.0"]  # an unmeasured deep block does not matter
    t["rows"]["up.0.res.1"] = synthetic_table()["rows"]["up.0.res.1"]
    assert prune_shallow_blocks(t, 0.99)


def test_block_costs_are_exact_flop_fractions() -> None:
    model = tiny_model()
    unet = model.unet
    x = torch.randn(2, 4, 4, 4, 4)
    t = torch.full((2,), 0.5)
    text = model.encode_text(model.tokenize(["a red circle moving left slowly on a black background"] * 2))
    with torch.no_grad():
        costs = block_costs(unet, (x, t, *text), ["down.0.res.0", "down.0.res.1", "up.1.xattn.0"])
    assert costs["down.0.res.0"] == pytest.approx(costs["down.0.res.1"])  # identical blocks
    assert 0 < costs["up.1.xattn.0"] < 1 and 0 < costs["down.0.res.0"] < 1


def test_matched_taps_pair_every_stage_output() -> None:
    student = [b for b in BLOCKS if b not in ("down.0.res.1", "down.0.temporal.1", "up.0.res.0", "up.0.temporal.0")]
    pairs = matched_taps(BLOCKS, student)
    assert pairs == [("down.0.temporal.1", "down.0.temporal.0"), ("down.1.xattn.0", "down.1.xattn.0"),
                     ("mid.res.0", "mid.res.0"), ("up.1.xattn.0", "up.1.xattn.0"),
                     ("up.0.temporal.1", "up.0.temporal.1")]
    assert stage_of("mid.res.0") == "mid" and stage_of("up.1.xattn.0") == "up.1"
    # a stage the student lost entirely is left out
    assert ("down.0.temporal.1", "down.0.temporal.0") not in matched_taps(BLOCKS, BLOCKS[4:])
    with pytest.raises(ValueError, match="do not exist"):
        matched_taps(BLOCKS[:4], BLOCKS)


def test_icd_is_a_per_frame_mean_squared_error() -> None:
    g = torch.Generator().manual_seed(0)
    ft = {"a": torch.randn(2, 3, 3, 4, 4, generator=g), "b": torch.randn(2, 5, 3, 2, 2, generator=g)}
    assert icd_loss(ft, ft, [("a", "a"), ("b", "b")]).item() == 0.0
    fs = {"a": ft["a"] + 1.0, "b": ft["b"].clone()}
    fs["b"][1, :, 2] += 2.0  # one frame of 6 off by 2 everywhere: (4 per element) / 6 frames
    assert icd_loss(fs, ft, [("a", "a"), ("b", "b")]).item() == pytest.approx((1.0 + 4.0 / 6) / 2)
    with pytest.raises(ValueError, match="differ in shape"):
        icd_loss({"a": ft["b"]}, ft, [("a", "a")])
    with pytest.raises(ValueError, match="must be"):
        icd_loss({"a": ft["a"][0]}, {"a": ft["a"][0]}, [("a", "a")])
    with pytest.raises(ValueError, match="at least one"):
        icd_loss(fs, ft, [])


# -- the student, its fine-tuning step (on the backbone's pruning, taps and discriminator) -------------

def tiny_clips(n: int = 8, frames: int = 4):
    from vbench_lite.methods.backbone.latents import LatentClips

    g = torch.Generator().manual_seed(0)
    prompts = ["a red circle moving left slowly on a black background"] * n
    return LatentClips(torch.randn(n, 4, frames, 4, 4, generator=g), prompts, list(range(n)), "test-clips", "ae")


def tiny_table(unet) -> dict:
    """A table for the tiny UNet whose level-0 pair 1 (down and up) are the least important."""
    rows: dict = {TEACHER: {"metrics": dict(REF), "metric_std": {}}}
    for b in unet.skippable_blocks():
        side, level, kind = BlockRow.locate(b, len(unet.config.widths))
        m = dict(REF)
        m["fvd"] += 1.0 if b.endswith(".1") else 30.0
        rows[b] = {"block": b, "kind": kind, "side": side, "level": level, "params": 1, "flops_saved": 0.05,
                   "latency_saved": 0.05, "metrics": m, "metric_std": {}}
    return {"rows": rows, "levels": len(unet.config.widths)}


def test_pruning_removes_exactly_the_chosen_blocks_and_runs_at_every_frame_count() -> None:
    from vbench_lite.methods.backbone.prune import prune_model

    teacher = tiny_model()
    blocks = prune_shallow_blocks(tiny_table(teacher.unet), 0.8)
    assert blocks == ["down.0.res.1", "down.0.temporal.1", "up.0.res.1", "up.0.temporal.1"]
    student = prune_model(teacher, blocks)
    assert student.unet.skippable_blocks() == [b for b in teacher.unet.skippable_blocks() if b not in blocks]
    removed = sum(p.numel() for b in blocks for p in teacher.unet.get_submodule(b).parameters())
    assert sum(p.numel() for p in student.unet.parameters()) == sum(p.numel() for p in teacher.unet.parameters()) - removed
    text = teacher.encode_text(teacher.tokenize(["a blue square moving up quickly on a gray background"] * 2))
    for frames in (1, 2, 5, 8, 16):
        x = torch.randn(2, 4, frames, 4, 4, generator=torch.Generator().manual_seed(frames))
        t = torch.full((2,), 0.3)
        with torch.no_grad():
            v = student.velocity(x, t, text)
            ref = teacher.velocity(x, t, text, skip=blocks)
        assert v.shape == x.shape
        torch.testing.assert_close(v, ref, rtol=0, atol=0)  # pruned == teacher with those blocks skipped


def test_icd_is_zero_for_identical_networks_and_positive_after_pruning() -> None:
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.backbone.prune import prune_model
    from vbench_lite.methods.vdmini.task import ICMDWeights, VDMiniTask

    teacher = tiny_model()
    recipe = FlowRecipe(batch_size=4)
    batch_gen = torch.Generator().manual_seed(3)
    same = VDMiniTask(prune_model(teacher, []), teacher, tiny_clips(), recipe, ICMDWeights(icd=0.1, mca=0.0))
    batch = same.batch(0, batch_gen)
    assert same.losses(batch)["icd"].item() == 0.0
    pruned = VDMiniTask(prune_model(teacher, ["down.0.res.1", "up.0.temporal.0"]), teacher, tiny_clips(), recipe,
                        ICMDWeights(icd=0.1, mca=0.0))
    assert pruned.losses(batch)["icd"].item() > 0.0


def test_hinge_losses_on_known_logits() -> None:
    from vbench_lite.methods.backbone.discriminator import hinge_d_loss, hinge_g_loss

    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 1.5])
    # relu(1 - real) = [0, 0.5, 2] -> 2.5/3; relu(1 + fake) = [0, 1, 2.5] -> 3.5/3
    assert hinge_d_loss(real, fake).item() == pytest.approx(6.0 / 3)
    assert hinge_g_loss(fake).item() == pytest.approx(0.5 / 3)  # -mean(fake)
    assert hinge_d_loss(torch.full((4,), 1.0), torch.full((4,), -1.0)).item() == 0.0  # margins met


def test_a_fine_tuning_step_changes_only_the_student_and_the_discriminator_heads(tmp_path) -> None:
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.backbone.prune import prune_model
    from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer
    from vbench_lite.methods.vdmini.mca import MultiFrameAdversary
    from vbench_lite.methods.vdmini.task import ICMDWeights, VDMiniTask

    teacher = tiny_model()
    student = prune_model(teacher, ["down.0.res.1", "down.0.temporal.1"])
    adversary = MultiFrameAdversary(teacher, hidden=8)
    task = VDMiniTask(student, teacher, tiny_clips(), FlowRecipe(batch_size=4), ICMDWeights(), adversary=adversary)
    snap = lambda m: {k: v.detach().clone() for k, v in m.state_dict().items()}  # noqa: E731
    before = {"teacher": snap(teacher), "student": snap(student), "heads": snap(adversary.disc)}
    Trainer(task, TrainConfig(steps=1, log_every=1, checkpoint_every=1), tmp_path).run()
    after = {"teacher": snap(teacher), "student": snap(student), "heads": snap(adversary.disc)}
    changed = {k: [n for n in before[k] if not torch.equal(before[k][n], after[k][n])] for k in before}
    assert changed["teacher"] == []  # the frozen teacher, which is also the discriminator's backbone
    assert not [n for n in changed["student"] if n.startswith("text_encoder.")]  # the frozen caption encoder
    assert any(n.startswith("unet.") for n in changed["student"])
    assert changed["heads"]
    assert not any(p.requires_grad for p in teacher.parameters())


def test_adaptive_weight_is_the_ratio_of_gradient_norms_at_the_last_layer() -> None:
    from vbench_lite.methods.backbone.discriminator import adaptive_weight

    w = torch.tensor([3.0, 4.0], requires_grad=True)
    task = (w ** 2).sum() / 2  # gradient w: norm 5
    adv = 10.0 * w.sum()  # gradient (10, 10): norm 14.14
    lam = adaptive_weight(task, adv, w, eps=0.0)
    assert lam.item() == pytest.approx(5.0 / (10.0 * 2 ** 0.5)) and not lam.requires_grad
    assert adaptive_weight(task, 1e-9 * w.sum(), w, max_weight=7.0).item() == 7.0  # clamped
    (task + lam * adv).backward()  # both graphs were kept
    assert w.grad is not None


@pytest.mark.parametrize("balance", ["adaptive", "none"])
def test_the_adaptive_mca_balance_equalises_the_two_gradients_at_the_output_layer(balance: str) -> None:
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.backbone.prune import prune_model
    from vbench_lite.methods.vdmini.mca import MultiFrameAdversary
    from vbench_lite.methods.vdmini.task import ICMDWeights, VDMiniTask

    torch.manual_seed(0)
    teacher = tiny_model()
    for p in teacher.unet.conv_out.parameters():  # a trained (non-zero) output layer
        torch.nn.init.normal_(p, std=0.1)
    student = prune_model(teacher, ["down.0.res.1", "down.0.temporal.1"])
    task = VDMiniTask(student, teacher, tiny_clips(), FlowRecipe(batch_size=4),
                      ICMDWeights(icd=0.0, mca=1.0, mca_balance=balance), adversary=MultiFrameAdversary(teacher, hidden=8))
    terms = task.losses(task.batch(0, torch.Generator().manual_seed(0)))
    w = student.unet.conv_out.weight
    g_task = torch.autograd.grad(terms["task"], w, retain_graph=True)[0].norm()
    g_mca = torch.autograd.grad(terms["total"] - terms["task"], w, retain_graph=True)[0].norm()
    if balance == "adaptive":
        assert g_mca.item() == pytest.approx(g_task.item(), rel=1e-3)
        assert terms["mca_balance"].item() > 0
    else:
        assert "mca_balance" not in terms
        assert g_mca.item() == pytest.approx(torch.autograd.grad(terms["mca"], w)[0].norm().item(), rel=1e-6)


def test_icmd_weights_refuse_an_unknown_balance() -> None:
    from vbench_lite.methods.vdmini.task import ICMDWeights

    with pytest.raises(ValueError, match="mca_balance"):
        ICMDWeights(mca_balance="vqgan")


def test_run_folders_are_named_by_the_mca_balance() -> None:
    from vbench_lite.methods.vdmini.recipe import run_name

    assert run_name(None) == "vdmini-adaptive" and run_name("mca") == "vdmini-mca-adaptive"
    assert run_name("task-only") == "vdmini-task-only" and run_name("icd") == "vdmini-icd"


def test_magnitude_pruning_keeps_the_largest_channels_at_the_nearest_parameter_count() -> None:
    from dataclasses import replace

    from vbench_lite.methods.vdmini.magnitude import (
        channel_magnitudes,
        magnitude_prune_model,
        select_channels,
        unet_parameters,
    )

    teacher = tiny_model()
    unet = teacher.unet
    x, t = torch.randn(2, 4, 3, 4, 4), torch.full((2,), 0.5)
    text = teacher.encode_text(teacher.tokenize(["a red circle moving left slowly on a black background"] * 2))
    with torch.no_grad():  # keeping every channel is the teacher, bit for bit
        same = select_channels(unet, [torch.arange(w) for w in unet.config.widths])
        torch.testing.assert_close(same(x, t, *text), unet(x, t, *text), rtol=0, atol=0)
    target = int(0.8 * unet_parameters(unet.config))
    student, widths = magnitude_prune_model(teacher, target)
    count = sum(p.numel() for p in student.unet.parameters())
    assert count == unet_parameters(replace(unet.config, widths=widths))
    assert widths != unet.config.widths and abs(count - target) < abs(unet_parameters(unet.config) - target)
    # the survivors of each level are its largest-magnitude channels, with the teacher's weights
    keep = [torch.sort(m.argsort(descending=True)[:w]).values for m, w in zip(channel_magnitudes(unet), widths)]
    torch.testing.assert_close(student.unet.conv_in.weight, unet.conv_in.weight[keep[0]])
    torch.testing.assert_close(student.unet.get_submodule("down.0.downsample").weight,
                               unet.get_submodule("down.0.downsample").weight[keep[1]][:, keep[0]])
    with torch.no_grad():
        assert student.velocity(x, t, text).shape == x.shape


def test_training_segments_split_the_log_where_a_resumed_run_restarts_its_clock() -> None:
    from vbench_lite.methods.vdmini.recipe import training_segments

    rows = [{"step": 20, "elapsed_s": 30.0}, {"step": 40, "elapsed_s": 60.0},  # first run, 0-40
            {"step": 60, "elapsed_s": 24.0}, {"step": 80, "elapsed_s": 48.0}]  # resumed at 40
    assert training_segments(rows, 80) == "0-40: 1.0, 40-80: 0.8"
    assert training_segments(rows, 40) == "0-40: 1.0"
    assert training_segments([], 40) == "none logged"
