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


def test_scores_normalise_each_measure_by_its_largest_degradation() -> None:
    t = synthetic_table(fvd={"down.0.res.0": 50.0, "mid.res.0": 25.0}, motion={"mid.res.0": 0.5})
    sc = scores(t)
    assert sc["down.0.res.0"]["content"] == pytest.approx(0.5)  # FVD max (1 of 2 content measures)
    assert sc["mid.res.0"]["content"] == pytest.approx(0.25)
    assert sc["mid.res.0"]["motion"] == pytest.approx(1 / 3)  # direction max (1 of 3 motion measures)
    assert sc["down.0.res.0"]["motion"] == 0.0
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
