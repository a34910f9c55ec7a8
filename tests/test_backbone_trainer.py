"""The shared trainer: loss goes down, resume continues from the saved step, checkpoints verify."""

from __future__ import annotations

import json

import pytest
import torch

from vbench_lite.methods.backbone.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vbench_lite.methods.backbone.flow_task import FlowBatch, FlowMatchingTask, FlowRecipe
from vbench_lite.methods.backbone.latents import LatentClips
from vbench_lite.methods.backbone.model import load_model, save_model
from vbench_lite.methods.backbone.tiny import tiny_model
from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer, read_log


def _clips(n: int = 8) -> LatentClips:
    g = torch.Generator().manual_seed(0)
    prompts = ["a red circle moving left slowly on a black background",
               "a blue square standing still on a white background"] * (n // 2)
    return LatentClips(torch.randn(n, 4, 4, 8, 8, generator=g), prompts, list(range(n)), "test-clips", "ae")


def _task(seed: int = 0, lr: float = 3e-3) -> FlowMatchingTask:
    return FlowMatchingTask(tiny_model(seed, randomized=False), _clips(),
                            FlowRecipe(batch_size=4, lr=lr, warmup_steps=0))


def _fixed_batch_loss(task: FlowMatchingTask) -> float:
    batch = task.sample_batch(torch.Generator().manual_seed(123))
    with torch.no_grad():
        return float(task.denoiser_loss(batch, None))


def test_five_training_steps_lower_the_loss(tmp_path):
    task = _task()

    class FixedBatch(FlowMatchingTask):
        def batch(self, step, generator):  # the same batch every step: the loss must fall
            return self.sample_batch(torch.Generator().manual_seed(123))

    task.__class__ = FixedBatch
    before = _fixed_batch_loss(task)
    trainer = Trainer(task, TrainConfig(steps=5, log_every=1, checkpoint_every=5), tmp_path)
    trainer.run()
    after = _fixed_batch_loss(task)
    assert after < before * 0.95
    rows = read_log(tmp_path)
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(r["examples_per_s"] > 0 and "model_loss" in r for r in rows)
    assert rows[-1]["train_flops"] == 5 * rows[0]["train_flops"] > 0


def test_resume_continues_from_the_saved_step_and_matches_an_uninterrupted_run(tmp_path):
    Trainer(_task(), TrainConfig(steps=5, checkpoint_every=5), tmp_path / "straight").run()
    first = Trainer(_task(), TrainConfig(steps=3, checkpoint_every=3), tmp_path / "resumed")
    first.run()
    second = Trainer(_task(), TrainConfig(steps=5, checkpoint_every=5), tmp_path / "resumed")
    assert second.resume() and second.step == 3
    second.run()
    assert second.step == 5
    a, ca, _ = load_checkpoint(tmp_path / "straight" / "step_0000005")
    b, cb, _ = load_checkpoint(tmp_path / "resumed" / "step_0000005")
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
        assert torch.equal(a["model.ema"][k], b["model.ema"][k]), k
    assert ca["train_flops"] == cb["train_flops"] and ca["examples_seen"] == cb["examples_seen"] == 20
    assert [p.name for p in second.checkpoints()] == ["step_0000003", "step_0000005"]


def test_time_budget_stops_with_a_checkpoint(tmp_path):
    t = Trainer(_task(), TrainConfig(steps=100, checkpoint_every=50, time_budget_s=0.0), tmp_path)
    last = t.run()
    assert t.step == 1 and last.name == "step_0000001"


def test_an_adversarial_style_task_steps_two_optimisers(tmp_path):
    from vbench_lite.methods.backbone.trainer import OptimizerConfig

    base = _task()

    class TwoOptimisers(FlowMatchingTask):
        def __init__(self):
            self.__dict__.update(base.__dict__)
            self.disc = torch.nn.Linear(4, 1)

        def models(self):
            return {"model": self.model, "disc": self.disc}

        def optimizers(self):
            return {**super().optimizers(), "disc": OptimizerConfig(("disc",), lr=1e-2)}

        def train_step(self, ctx, batch: FlowBatch):
            d_loss = self.disc(batch.x0.mean((2, 3, 4))).pow(2).mean()
            ctx.update("disc", d_loss)
            ctx.update("model", self.denoiser_loss(batch, ctx))
            return {}

    task = TwoOptimisers()
    w0 = task.disc.weight.detach().clone()
    Trainer(task, TrainConfig(steps=2, checkpoint_every=2, log_every=1), tmp_path).run()
    assert not torch.equal(w0, task.disc.weight)
    assert {"disc_loss", "model_loss"} <= set(read_log(tmp_path)[-1])
    tensors, _, _ = load_checkpoint(tmp_path / "step_0000002")
    assert {"model", "model.ema", "disc"} <= set(tensors)


def test_model_checkpoint_round_trip_and_hash_refusal(tmp_path):
    model = tiny_model()
    save_model(tmp_path / "ck", model, {"note": "x"})
    loaded, cfg, sha = load_model(tmp_path / "ck")
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    assert cfg["note"] == "x" and len(sha) == 64
    assert load_model(tmp_path / "ck")[2] == sha
    # fp16 storage loads back as fp32 within fp16 rounding
    save_model(tmp_path / "half", model, half=True)
    half, _, sha_half = load_model(tmp_path / "half")
    assert sha_half != sha
    w = "unet.conv_in.weight"
    assert half.state_dict()[w].dtype == torch.float32
    assert torch.allclose(half.state_dict()[w], model.state_dict()[w], rtol=1e-3, atol=1e-4)
    # a modified weight file is refused, naming the file and the rebuild command
    f = tmp_path / "ck" / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.safetensors.*SHA-256.*rebuild it with: make-it"):
        load_model(tmp_path / "ck", rebuild_hint="make-it")


def test_missing_and_corrupt_checkpoints_name_path_and_command(tmp_path):
    with pytest.raises(CheckpointError, match=rf"{tmp_path / 'nowhere'}.*missing.*train --method baseline"):
        load_model(tmp_path / "nowhere", "python -m vbench_lite train --method baseline")
    save_checkpoint(tmp_path / "c", {"a": {"w": torch.ones(2)}}, {"k": 1})
    (tmp_path / "c" / "manifest.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="manifest.*corrupt"):
        load_checkpoint(tmp_path / "c")
    save_checkpoint(tmp_path / "d", {"a": {"w": torch.ones(2)}}, {"k": 1})
    (tmp_path / "d" / "a.safetensors").unlink()
    with pytest.raises(CheckpointError, match="a.safetensors is missing"):
        load_checkpoint(tmp_path / "d")
    m = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert m["schema"] == "vbench_lite.checkpoint/1" and "config.json" in m["files"]


def test_trainer_refuses_unknown_optimizer_names(tmp_path):
    task = _task()
    task.train_step = lambda ctx, batch: ctx.update("nope", torch.tensor(1.0, requires_grad=True)) or {}
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):
        Trainer(task, TrainConfig(steps=1), tmp_path).run()


def test_lr_scale_zero_freezes_the_caption_encoder_and_trains_the_rest(tmp_path):
    task = FlowMatchingTask(tiny_model(0, randomized=False), _clips(),
                            FlowRecipe(batch_size=4, lr=3e-3, warmup_steps=0, text_lr_scale=0.0))
    before = {k: v.clone() for k, v in task.model.state_dict().items()}
    Trainer(task, TrainConfig(steps=3, checkpoint_every=3), tmp_path).run()
    after = task.model.state_dict()
    text = [k for k in before if k.startswith("text_encoder.")]
    assert text and all(torch.equal(before[k], after[k]) for k in text)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("unet."))


def test_lr_scale_gives_matching_parameters_their_own_learning_rate(tmp_path):
    task = FlowMatchingTask(tiny_model(0, randomized=False), _clips(),
                            FlowRecipe(batch_size=4, lr=3e-3, warmup_steps=0, text_lr_scale=0.1))
    trainer = Trainer(task, TrainConfig(steps=1, checkpoint_every=1), tmp_path)
    trainer.run()
    groups = trainer.optimizers["model"].param_groups
    by_scale = {g["lr_scale"]: g for g in groups}
    assert sorted(by_scale) == [0.1, 1.0]
    assert by_scale[0.1]["lr"] == pytest.approx(3e-4) and by_scale[1.0]["lr"] == pytest.approx(3e-3)
    text_ids = {id(p) for p in task.model.text_encoder.parameters()}
    assert {id(p) for p in by_scale[0.1]["params"]} == text_ids
