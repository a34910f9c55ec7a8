"""Physical pruning: the pruned UNet equals the teacher with those blocks skipped, bit for bit, and
its parameters and FLOPs fall by exactly the removed blocks' share."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from vbench_lite.methods.backbone.model import load_model, save_model
from vbench_lite.methods.backbone.prune import prune, prune_model
from vbench_lite.methods.backbone.tiny import tiny_model

BLOCKS = ("down.0.res.1", "down.1.temporal.0", "down.1.xattn.1", "mid.xattn.0", "mid.res.1", "up.1.res.0",
          "up.0.temporal.1")  # in execution order


def _inputs(model, b: int = 2, t: int = 4, size: int = 8):  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, 4, t, size, size, generator=g)
    with torch.no_grad():
        text = model.encode_text(model.tokenize(["a red circle moving left slowly on a black background"] * b))
    return x, torch.rand(b, generator=g), text


def _flops(unet, *args, **kw) -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        unet(*args, **kw)
    per_module = {k: int(sum(v.values())) for k, v in counter.get_flop_counts().items()}
    return int(counter.get_total_flops()), per_module


@pytest.mark.parametrize("size", [6, 8])
def test_pruned_unet_equals_the_teacher_with_the_blocks_skipped(size: int) -> None:
    model = tiny_model()
    x, t, text = _inputs(model, size=size)
    student = prune(model.unet, BLOCKS)
    for name in BLOCKS:
        with pytest.raises(AttributeError):
            student.get_submodule(name)
    assert not set(BLOCKS) & set(student.block_names())
    with torch.no_grad():
        assert torch.equal(student(x, t, *text), model.unet(x, t, *text, skip=BLOCKS))
        assert not torch.equal(student(x, t, *text), model.unet(x, t, *text))


def test_params_and_flops_fall_by_exactly_the_removed_blocks() -> None:
    model = tiny_model()
    x, t, text = _inputs(model)
    student = prune(model.unet, BLOCKS)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    removed = sum(count(model.unet.get_submodule(n)) for n in BLOCKS)
    assert removed > 0 and count(student) == count(model.unet) - removed
    full, per_module = _flops(model.unet, x, t, *text)
    removed_flops = sum(per_module[f"SpaceTimeUNet.{n}"] for n in BLOCKS)
    pruned, _ = _flops(student, x, t, *text)
    skipped, _ = _flops(model.unet, x, t, *text, skip=BLOCKS)
    assert removed_flops > 0 and pruned == full - removed_flops == skipped


def test_pruned_model_saves_loads_and_prunes_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = tiny_model()
    x, t, text = _inputs(model)
    student = prune_model(model, BLOCKS[:3])
    save_model(tmp_path / "student", student)
    back, config, _ = load_model(tmp_path / "student")
    assert tuple(config["model"]["unet"]["pruned"]) == BLOCKS[:3]
    again = prune(back.unet, BLOCKS[3:])
    with torch.no_grad():
        assert torch.equal(again(x, t, *text), model.unet(x, t, *text, skip=BLOCKS))
    assert back.unet.config.pruned == BLOCKS[:3] and again.config.pruned == BLOCKS
    with pytest.raises(ValueError, match="cannot skip"):
        prune(model.unet, ["down.0.downsample"])
