"""The shared multi-frame discriminator and the alternating generator/discriminator step: a D step
changes only D's parameters, a G step only G's, and a resumed run continues bit for bit."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from vbench_lite.methods.backbone.discriminator import (
    MultiFrameDiscriminator,
    hinge_d_loss,
    hinge_g_loss,
    unet_features,
)
from vbench_lite.methods.backbone.layers import sinusoidal
from vbench_lite.methods.backbone.tiny import tiny_model
from vbench_lite.methods.backbone.trainer import (
    OptimizerConfig,
    StepContext,
    TrainConfig,
    Trainer,
    TrainingTask,
)

TAPS = ("down.0.res.1", "down.1.xattn.1")


def _text(model, b: int):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return model.encode_text(model.tokenize(["a red circle moving left slowly on a black background"] * b))


def _disc(frozen) -> MultiFrameDiscriminator:  # type: ignore[no-untyped-def]
    torch.manual_seed(1)
    w0, w1 = frozen.unet.config.widths
    return MultiFrameDiscriminator(unet_features(frozen.unet, TAPS), {TAPS[0]: w0, TAPS[1]: w1}, cond_dim=16,
                                   hidden=16, heads=2)


def test_the_discriminator_reads_the_frozen_encoder_and_judges_motion() -> None:
    frozen = tiny_model(seed=3).requires_grad_(False)
    d = _disc(frozen)
    assert not any(p is q for p in d.parameters() for q in frozen.parameters())  # the extractor is not D's
    calls: list[str] = []
    frozen.unet.get_submodule("up.0.res.0").register_forward_hook(lambda *a: calls.append("up"))
    x = torch.randn(2, 4, 6, 8, 8, generator=torch.Generator().manual_seed(0))
    t = torch.full((2,), 0.3)
    cond = sinusoidal(t * 1000, 16)
    logits = d(x, cond, t, *_text(frozen, 2))
    assert logits.shape == (2,) and not calls  # the pass stopped after the encoder taps
    shuffled = d(x[:, :, torch.tensor([3, 0, 5, 1, 4, 2])], cond, t, *_text(frozen, 2))
    assert not torch.allclose(logits, shuffled)  # frame order matters (temporal attention)
    assert not torch.allclose(logits, d(x, sinusoidal(t * 0 + 900.0, 16), t, *_text(frozen, 2)))  # the condition
    # gradients reach the input through the frozen extractor (the generator's signal), none reach it
    xg = x.clone().requires_grad_(True)
    hinge_g_loss(d(xg, cond, t, *_text(frozen, 2))).backward()
    assert xg.grad is not None and xg.grad.abs().sum() > 0
    assert all(p.grad is None for p in frozen.parameters())


def test_hinge_losses_by_hand() -> None:
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])
    # relu(1 - 2) + relu(1 - 0.5) -> mean 0.25; relu(1 - 3) + relu(1 + 0) -> mean 0.5
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.75)
    assert hinge_g_loss(fake).item() == pytest.approx(1.5)


class AdversarialTask(TrainingTask):
    """A one-step generator (noise -> latent video) against the discriminator, alternating."""

    name = "test-adversarial"
    ema_models = ("generator",)

    def __init__(self) -> None:
        self.frozen = tiny_model(seed=3).requires_grad_(False)
        torch.manual_seed(0)
        self.generator = torch.nn.Conv3d(4, 4, 3, padding=1)
        self.discriminator = _disc(self.frozen)
        self.text = _text(self.frozen, 2)
        self.seen: list[tuple[str, set[str]]] = []

    def models(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, OptimizerConfig]:
        return {"discriminator": OptimizerConfig(("discriminator",), lr=1e-2),
                "generator": OptimizerConfig(("generator",), lr=1e-2)}

    def batch(self, step: int, generator: torch.Generator) -> Any:
        return torch.randn(2, 4, 4, 8, 8, generator=generator), torch.randn(2, 4, 4, 8, 8, generator=generator)

    def _score(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.full((2,), 0.5)
        return self.discriminator(x, sinusoidal(t * 1000, 16), t, *self.text)

    def _trainable(self) -> set[str]:
        return {m for m, mod in self.models().items() if any(p.requires_grad for p in mod.parameters())}

    def train_step(self, ctx: StepContext, batch: Any) -> dict[str, float]:
        real, noise = batch

        def d_loss() -> torch.Tensor:
            self.seen.append(("discriminator", self._trainable()))
            return hinge_d_loss(self._score(real), self._score(self.generator(noise)))

        def g_loss() -> torch.Tensor:
            self.seen.append(("generator", self._trainable()))
            return hinge_g_loss(self._score(self.generator(noise)))

        ctx.alternate(("discriminator", d_loss), ("generator", g_loss))
        return {}


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_each_player_step_changes_only_its_own_parameters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    task = AdversarialTask()
    trainer = Trainer(task, TrainConfig(steps=1, log_every=1), tmp_path)
    frozen0, g0, d0 = _snapshot(task.frozen), _snapshot(task.generator), _snapshot(task.discriminator)
    real, noise = task.batch(0, torch.Generator().manual_seed(0))
    ctx = StepContext(0, torch.Generator().manual_seed(0), trainer)
    with ctx.only("discriminator"):
        ctx.update("discriminator", hinge_d_loss(task._score(real), task._score(task.generator(noise))))
    g1, d1 = _snapshot(task.generator), _snapshot(task.discriminator)
    assert all(torch.equal(a, b) for a, b in zip(g0, g1))  # D step: G untouched
    assert any(not torch.equal(a, b) for a, b in zip(d0, d1))
    with ctx.only("generator"):
        ctx.update("generator", hinge_g_loss(task._score(task.generator(noise))))
    g2, d2 = _snapshot(task.generator), _snapshot(task.discriminator)
    assert all(torch.equal(a, b) for a, b in zip(d1, d2))  # G step: D untouched
    assert any(not torch.equal(a, b) for a, b in zip(g1, g2))
    assert all(torch.equal(a, b) for a, b in zip(frozen0, _snapshot(task.frozen)))
    # requires_grad is restored after each step
    assert all(p.requires_grad for p in task.generator.parameters())
    assert all(p.requires_grad for p in task.discriminator.parameters())


def test_alternating_training_toggles_players_and_resumes_bit_for_bit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    task = AdversarialTask()
    Trainer(task, TrainConfig(steps=4, log_every=1, checkpoint_every=2), tmp_path / "full").run()
    assert task.seen[:2] == [("discriminator", {"discriminator"}), ("generator", {"generator"})]
    first = AdversarialTask()
    Trainer(first, TrainConfig(steps=2, log_every=1, checkpoint_every=2), tmp_path / "split").run()
    second = AdversarialTask()
    Trainer(second, TrainConfig(steps=4, log_every=1, checkpoint_every=2), tmp_path / "split").run()
    assert len(second.seen) == 4  # resumed at step 2: two more alternating steps
    for a, b in zip(_snapshot(task.generator) + _snapshot(task.discriminator),
                    _snapshot(second.generator) + _snapshot(second.discriminator)):
        assert torch.equal(a, b)
