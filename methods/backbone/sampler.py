"""The flow-matching ODE sampler as an object with explicit times (in the spirit of diffusers'
``scheduler.set_timesteps(sigmas=...)`` / ``scheduler.step``): every sampling schedule of every
method is a configuration of the one loop in :meth:`FlowSampler.sample`.

Convention (:mod:`.flow`): ``x_t = (1 - t) x0 + t eps``, ``t = 1`` noise, ``t = 0`` data; the
network predicts the velocity ``v = dx/dt``. A sampler holds:

- ``times``: the decreasing times ``t_0 > t_1 > ... > t_n`` at which the network is evaluated and
  between which it steps (``n`` steps; usually from 1 to 0, a stage of a pyramid ends earlier);
- ``solver``: ``euler`` (``x <- x + dt v(x, t)``) or ``heun`` (Karras et al. 2022, Alg. 1: an Euler
  predictor and a trapezoidal corrector, except on a step to ``t = 0``, which is Euler as in EDM);
- ``cfg_scale``: classifier-free guidance (Ho & Salimans 2022) ``v = v_u + s (v_c - v_u)``; 1.0 is
  CFG off (one conditional evaluation per call instead of a conditional + unconditional pair);
- ``span``: the model predicts ``dx/du`` for ``u = (t - t_end) / span``, so a step moves ``x`` by
  ``(t_next - t) / span * v`` (TPDiff's stage-local velocity; 1.0 for plain flow matching).

Examples::

    FlowSampler.uniform(30, cfg_scale=4.0)                         # 30 Euler steps with CFG (60 NFE)
    FlowSampler(times=(1.0, 0.75, 0.5, 0.25, 0.0), cfg_scale=1.0)  # 4 fixed timesteps without CFG
    FlowSampler.uniform(10, solver="heun", shift=3.0)              # SD3-shifted Heun, 38 NFE

``nfe`` (denoiser evaluations per video, a CFG pair counted as two) is derived from these fields by
the same rule the loop follows, never written by hand. A checkpoint stores its sampler as
``to_config()``; ``from_config`` also reads the older ``{"steps", "sampler", "shift"}`` form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

SOLVERS: tuple[str, ...] = ("euler", "heun")

Velocity = Callable[[torch.Tensor, float], torch.Tensor]  # velocity(x, t) with t a Python float


class Denoiser(Protocol):
    """What a sampler evaluates: conditional velocities, and (for CFG) a conditional/unconditional
    pair computed in one call of ``2 B`` rows (the usual CFG batching)."""

    def velocity(self, x: torch.Tensor, t: float) -> torch.Tensor: ...

    def velocity_pair(self, x: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]: ...


def shift_times(t: torch.Tensor, shift: float) -> torch.Tensor:
    """SD3's timestep shift (Esser et al. 2024, eq. 23 with alpha = shift): ``s t / (1 + (s - 1) t)``."""
    return shift * t / (1 + (shift - 1) * t)


def uniform_times(steps: int, shift: float = 1.0, start: float = 1.0, end: float = 0.0) -> tuple[float, ...]:
    """``steps + 1`` decreasing times from ``start`` to ``end``: uniform in the shifted unit time."""
    if steps < 1:
        raise ValueError(f"the sampler needs at least 1 step, got {steps}")
    if shift <= 0:
        raise ValueError(f"timestep shift must be positive, got {shift}")
    u = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    if shift != 1.0:
        u = shift_times(u, shift)
    if (start, end) != (1.0, 0.0):
        u = end + (start - end) * u
    return tuple(float(v) for v in u)


@dataclass(frozen=True)
class FlowSampler:
    times: tuple[float, ...]
    solver: str = "euler"
    cfg_scale: float = 1.0
    span: float = 1.0

    def __post_init__(self) -> None:
        times = tuple(float(t) for t in self.times)
        object.__setattr__(self, "times", times)
        if len(times) < 2:
            raise ValueError(f"a sampler needs at least two times (one step), got {list(times)}")
        if any(b >= a for a, b in zip(times[:-1], times[1:])):
            raise ValueError(f"sampler times must strictly decrease, got {list(times)}")
        if not (0.0 <= times[-1] and times[0] <= 1.0):
            raise ValueError(f"sampler times must lie in [0, 1], got {list(times)}")
        if self.solver not in SOLVERS:
            raise ValueError(f"unknown solver {self.solver!r}; use one of {', '.join(SOLVERS)}")
        if self.span <= 0:
            raise ValueError(f"span must be positive, got {self.span}")

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def uniform(
        cls, steps: int, *, solver: str = "euler", cfg_scale: float = 1.0, shift: float = 1.0,
        start: float = 1.0, end: float = 0.0, span: float = 1.0,
    ) -> FlowSampler:
        """``steps`` steps from ``start`` to ``end``, uniform in (shifted) time."""
        return cls(uniform_times(steps, shift, start, end), solver, cfg_scale, span)

    def set_timesteps(self, steps: int | None = None, *, times: Sequence[float] | None = None,
                      shift: float = 1.0) -> FlowSampler:
        """A copy with new times: ``steps`` uniform (shifted) steps over this sampler's range, or
        explicit ``times`` (diffusers' ``set_timesteps(sigmas=...)``)."""
        if (steps is None) == (times is None):
            raise ValueError("give either steps or times")
        if times is None:
            times = uniform_times(int(steps), shift, self.times[0], self.times[-1])  # type: ignore[arg-type]
        return FlowSampler(tuple(times), self.solver, self.cfg_scale, self.span)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FlowSampler:
        """Read ``to_config()``'s form, or the older ``{"steps", "sampler", "cfg_scale", "shift"}``."""
        c = dict(config)
        if "times" in c:
            return cls(tuple(c.pop("times")), c.pop("solver", "euler"), float(c.pop("cfg_scale", 1.0)),
                       float(c.pop("span", 1.0)))
        if "steps" not in c:
            raise ValueError(f"sampler config {config} has neither 'times' nor 'steps'")
        # The first checkpoints stored uniform steps; their CFG default was 4.0.
        return cls.uniform(int(c["steps"]), solver=c.get("sampler", "euler"),
                           cfg_scale=float(c.get("cfg_scale", 4.0)), shift=float(c.get("shift", 1.0)))

    def to_config(self) -> dict[str, Any]:
        return {"times": list(self.times), "solver": self.solver, "cfg_scale": self.cfg_scale, "span": self.span}

    # -- derived -------------------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self.times) - 1

    @property
    def guided(self) -> bool:
        """Whether a step evaluates the conditional + unconditional pair (CFG on)."""
        return self.cfg_scale != 1.0

    def _corrects(self, t_next: float) -> bool:
        return self.solver == "heun" and t_next > 0

    @property
    def nfe(self) -> int:
        """Denoiser evaluations per video (a CFG pair counts as two), by the loop's own rule."""
        calls = sum(1 + self._corrects(t_next) for t_next in self.times[1:])
        return calls * (2 if self.guided else 1)

    # -- the loop ------------------------------------------------------------------------------
    def velocity_fn(self, denoiser: Denoiser) -> Velocity:
        """The (guided) velocity of ``denoiser`` that this sampler integrates."""
        if not self.guided:
            return denoiser.velocity
        scale = self.cfg_scale

        def v(x: torch.Tensor, t: float) -> torch.Tensor:
            vc, vu = denoiser.velocity_pair(x, t)
            return vu + scale * (vc - vu)

        return v

    def step(self, velocity: Velocity, x: torch.Tensor, i: int) -> torch.Tensor:
        """Step ``i``: from ``times[i]`` to ``times[i + 1]``."""
        t, t_next = self.times[i], self.times[i + 1]
        dt = t_next - t if self.span == 1.0 else (t_next - t) / self.span
        v = velocity(x, t)
        x_pred = x + dt * v
        if self._corrects(t_next):
            return x + dt * 0.5 * (v + velocity(x_pred, t_next))
        return x_pred

    def sample(self, denoiser: Denoiser, x: torch.Tensor) -> torch.Tensor:
        """Integrate ``x`` (the state at ``times[0]``) to ``times[-1]``."""
        velocity = self.velocity_fn(denoiser)
        for i in range(self.steps):
            x = self.step(velocity, x, i)
        return x
