"""The sampler object: explicit times, Euler/Heun, CFG on/off, NFE derived from the object and equal to
the denoiser calls it makes; hand-computed steps."""

from __future__ import annotations

import math

import pytest
import torch

from vbench_lite.methods.backbone.flow import velocity_target
from vbench_lite.methods.backbone.sampler import FlowSampler, shift_times, uniform_times


class Fn:
    """A denoiser from a function ``v(x, t)``; the unconditional velocity is ``uncond(x, t)``."""

    def __init__(self, v, uncond=None):  # type: ignore[no-untyped-def]
        self.v, self.uncond, self.calls = v, uncond, []

    def velocity(self, x, t):  # type: ignore[no-untyped-def]
        self.calls.append(("cond", t))
        return self.v(x, t)

    def velocity_pair(self, x, t):  # type: ignore[no-untyped-def]
        self.calls.append(("pair", t))
        return self.v(x, t), self.uncond(x, t)


def test_uniform_times_and_shift_by_hand() -> None:
    assert uniform_times(2) == (1.0, 0.5, 0.0)
    # SD3 shift 3 at t = 0.5: 1.5 / (1 + 2 * 0.5) = 0.75
    assert uniform_times(2, shift=3.0) == pytest.approx((1.0, 0.75, 0.0))
    assert float(shift_times(torch.tensor(0.25), 2.0)) == pytest.approx(0.5 / 1.25)
    assert uniform_times(2, start=0.6, end=0.2) == pytest.approx((0.6, 0.4, 0.2))
    with pytest.raises(ValueError, match="at least 1 step"):
        uniform_times(0)


def test_one_euler_step_by_hand() -> None:
    d = Fn(lambda x, t: 3.0 * x + t)
    out = FlowSampler.uniform(1).sample(d, torch.tensor([2.0, -1.0]))
    # x(0) = x(1) + (0 - 1) * v(x(1), 1) = x - (3x + 1) = -2x - 1
    assert torch.allclose(out, torch.tensor([-5.0, 1.0]))
    assert d.calls == [("cond", 1.0)]


def test_explicit_times_without_cfg_by_hand() -> None:
    """"4 fixed timesteps without CFG": the network sees exactly those times, once each."""
    d = Fn(lambda x, t: x * 0 + t)
    s = FlowSampler(times=(1.0, 0.75, 0.5, 0.25, 0.0), cfg_scale=1.0)
    out = s.sample(d, torch.tensor([1.0]))
    assert [t for _, t in d.calls] == [1.0, 0.75, 0.5, 0.25] and s.nfe == 4 and s.steps == 4
    assert out.item() == pytest.approx(1 - 0.25 * (1.0 + 0.75 + 0.5 + 0.25))


def test_two_euler_steps_with_shift_by_hand() -> None:
    out = FlowSampler.uniform(2, shift=3.0).sample(Fn(lambda x, t: x * 0 + t), torch.tensor([1.0]))
    # t: 1 -> 0.75 -> 0; x = 1 - 0.25 * 1 - 0.75 * 0.75
    assert out.item() == pytest.approx(1 - 0.25 - 0.5625)


def test_heun_step_by_hand_and_exact_on_linear_velocity() -> None:
    noise = torch.tensor([1.0])
    heun = lambda n: FlowSampler.uniform(n, solver="heun")  # noqa: E731
    # v = x: exact solution x(0) = x(1) e^{-1}; one Heun step (Euler at the final step) = Euler
    assert heun(1).sample(Fn(lambda x, t: x), noise).item() == pytest.approx(0.0)
    # two steps: t 1 -> 0.5 is a Heun step: x_pred = 0.5, x = 1 - 0.5 * (1 + 0.5) / 2 = 0.625
    # then Euler 0.5 -> 0: 0.625 - 0.5 * 0.625 = 0.3125
    assert heun(2).sample(Fn(lambda x, t: x), noise).item() == pytest.approx(0.3125)
    exact = math.exp(-1)
    e = abs(FlowSampler.uniform(20).sample(Fn(lambda x, t: x), noise).item() - exact)
    h = abs(heun(20).sample(Fn(lambda x, t: x), noise).item() - exact)
    assert h < e / 3  # Heun is second order
    with pytest.raises(ValueError, match="unknown solver"):
        FlowSampler.uniform(2, solver="ddim")


def test_flow_from_noise_to_data_is_exact_for_the_true_velocity() -> None:
    """With the true conditional velocity of a single data point, Euler lands on it exactly."""
    x0, eps = torch.tensor([0.3, -0.7]), torch.tensor([1.2, 0.4])
    out = FlowSampler.uniform(7, shift=2.0).sample(Fn(lambda x, t: velocity_target(x0, eps)), eps)
    assert torch.allclose(out, x0, atol=1e-6)


def test_cfg_combination() -> None:
    d = Fn(lambda x, t: torch.tensor([2.0]), uncond=lambda x, t: torch.tensor([1.0]))
    v = FlowSampler.uniform(1, cfg_scale=4.0).velocity_fn(d)
    assert v(torch.zeros(1), 0.5).item() == 1.0 + 4.0 * (2.0 - 1.0)
    assert d.calls == [("pair", 0.5)]


def test_span_scales_the_step() -> None:
    """A stage-local velocity (TPDiff): times 0.6 -> 0.2 with span 0.4 move x by dt / span * v."""
    s = FlowSampler(times=(0.6, 0.2), span=0.4)
    assert s.sample(Fn(lambda x, t: x * 0 + 1.0), torch.tensor([0.0])).item() == pytest.approx(-1.0)


@pytest.mark.parametrize(
    "sampler,nfe",
    [
        (FlowSampler.uniform(30, cfg_scale=4.0), 60),  # the baseline: 30 Euler steps with CFG
        (FlowSampler.uniform(30), 30),
        (FlowSampler.uniform(10, solver="heun", cfg_scale=4.0), 38),  # the last step to 0 is Euler
        (FlowSampler(times=(1.0, 0.75, 0.5, 0.25, 0.0)), 4),
        (FlowSampler.uniform(5, solver="heun", start=0.9, end=0.3), 10),  # a stage ending above 0: all Heun
    ],
)
def test_nfe_equals_the_denoiser_calls_a_wrapper_counts(sampler: FlowSampler, nfe: int) -> None:
    d = Fn(lambda x, t: -x, uncond=lambda x, t: x)
    sampler.sample(d, torch.ones(3))
    counted = sum(2 if kind == "pair" else 1 for kind, _ in d.calls)  # a CFG pair is two evaluations
    assert sampler.nfe == counted == nfe


@pytest.mark.parametrize(
    "times,match",
    [((1.0,), "at least two times"), ((1.0, 0.5, 0.7), "strictly decrease"), ((1.5, 0.0), r"lie in \[0, 1\]")],
)
def test_bad_times_are_refused(times, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        FlowSampler(times=times)


def test_config_round_trip_and_the_shipped_form() -> None:
    s = FlowSampler.uniform(4, solver="heun", cfg_scale=2.5, shift=3.0)
    assert FlowSampler.from_config(s.to_config()) == s
    old = FlowSampler.from_config({"steps": 30, "sampler": "euler", "cfg_scale": 4.0, "shift": 1.0})
    assert old == FlowSampler.uniform(30, cfg_scale=4.0) and old.nfe == 60
    assert s.set_timesteps(times=(1.0, 0.4, 0.0)).times == (1.0, 0.4, 0.0)
    assert s.set_timesteps(2).times == (1.0, 0.5, 0.0) and s.set_timesteps(2).solver == "heun"
