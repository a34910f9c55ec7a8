"""A method's sampling schedule as data: steps, classifier-free guidance, pyramid stages.

The same description drives the projection of a method onto a real architecture: each stage runs
``steps`` solver steps (``evaluations`` denoiser evaluations: one per Euler step, two per Heun
step but the last) on a latent grid whose frame count and sides are the full grid's scaled by
``frames_scale`` and ``resolution_scale``; with CFG each evaluation is a conditional +
unconditional pair. A method adapter may return one from an optional ``schedule()`` (built from
its sampler objects with :meth:`SamplingSchedule.from_samplers`); otherwise it is read from the
adapter's ``describe()`` (``steps``, ``cfg_scale``, ``nfe``, ``frames``, ``resolution`` and an
optional ``stages`` list of ``{"frames", "steps"[, "resolution"]}``), and a described NFE that the
stages do not reproduce is an error rather than a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Stage:
    """``steps`` solver steps at ``frames_scale`` of the frames and ``resolution_scale`` of each side;
    ``evaluations`` denoiser evaluations (CFG pairs counted once; default: one per step)."""

    steps: int
    frames_scale: float = 1.0
    resolution_scale: float = 1.0
    evaluations: int = 0  # 0: one per step

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"a stage needs at least one step, got {self.steps}")
        if self.evaluations == 0:
            object.__setattr__(self, "evaluations", self.steps)
        if self.evaluations < self.steps:
            raise ValueError(f"a stage of {self.steps} steps makes at least {self.steps} evaluations, got {self.evaluations}")
        for label, s in (("frames_scale", self.frames_scale), ("resolution_scale", self.resolution_scale)):
            if not 0 < s <= 1:
                raise ValueError(f"{label} must lie in (0, 1], got {s}")


@dataclass(frozen=True)
class SamplingSchedule:
    """Stages in execution order; ``cfg`` doubles every step's denoiser evaluations."""

    stages: tuple[Stage, ...]
    cfg: bool
    label: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("a sampling schedule needs at least one stage")

    @classmethod
    def single(cls, steps: int, cfg: bool, label: str = "") -> SamplingSchedule:
        return cls((Stage(steps),), cfg, label)

    @classmethod
    def from_samplers(cls, samplers: Sequence[Any], frames_scales: Sequence[float] | None = None,
                      resolution_scales: Sequence[float] | None = None, label: str = "") -> SamplingSchedule:
        """The schedule of sampler objects run one after the other (one per stage, in execution
        order), each with ``steps``, ``nfe`` (CFG pairs counted as two) and ``guided`` (CFG on), as
        the backbone's ``FlowSampler`` has them."""
        n = len(samplers)
        fs, rs = list(frames_scales or [1.0] * n), list(resolution_scales or [1.0] * n)
        if not n or len(fs) != n or len(rs) != n:
            raise ValueError(f"{n} samplers need as many frame and resolution scales, got {len(fs)} and {len(rs)}")
        guided = {bool(s.guided) for s in samplers}
        if len(guided) != 1:
            raise ValueError("the stages of one schedule must all use CFG or all not (mixed stages are not modelled)")
        cfg = guided.pop()
        stages = tuple(Stage(int(s.steps), f, r, int(s.nfe) // (2 if cfg else 1)) for s, f, r in zip(samplers, fs, rs))
        return cls(stages, cfg, label)

    @property
    def steps(self) -> int:
        return sum(s.steps for s in self.stages)

    @property
    def passes(self) -> int:
        """Denoiser evaluations per step: 2 with classifier-free guidance (cond + uncond), else 1."""
        return 2 if self.cfg else 1

    @property
    def evaluations(self) -> int:
        return sum(s.evaluations for s in self.stages)

    @property
    def nfe(self) -> int:
        return self.evaluations * self.passes

    def with_steps(self, steps: int) -> SamplingSchedule:
        """The same stages with ``steps`` in total, split in the stages' proportions. Leftover steps
        of the rounding go to the costliest stages first (largest grid, then latest), so a rescaled
        schedule never flatters a method."""
        if steps < len(self.stages):
            raise ValueError(f"{steps} steps cannot cover {len(self.stages)} stages")
        total = self.steps
        exact = [s.steps * steps / total for s in self.stages]
        counts = [max(1, int(e)) for e in exact]
        order = sorted(range(len(self.stages)), key=lambda i: (-self.stages[i].frames_scale * self.stages[i].resolution_scale ** 2, -i))
        i = 0
        while sum(counts) < steps:
            counts[order[i % len(order)]] += 1
            i += 1
        while sum(counts) > steps:  # only when max(1, .) lifted a tiny stage
            j = next(j for j in reversed(order) if counts[j] > 1)
            counts[j] -= 1
        return replace(self, stages=tuple(replace(s, steps=n, evaluations=_evaluations(s, n))
                                          for s, n in zip(self.stages, counts)))

    def with_cfg(self, cfg: bool) -> SamplingSchedule:
        return replace(self, cfg=cfg)

    def describe(self) -> str:
        if len(self.stages) == 1 and self.stages[0].frames_scale == self.stages[0].resolution_scale == 1:
            body = f"{self.steps} steps"
        else:
            body = " + ".join(f"{s.steps}@{_frac(s.frames_scale)}T" + ("" if s.resolution_scale == 1 else f"x{_frac(s.resolution_scale)}HW")
                              for s in self.stages)
        return f"{body}, {'CFG' if self.cfg else 'no CFG'}, NFE {self.nfe}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "steps": self.steps, "cfg": self.cfg, "nfe": self.nfe,
            "stages": [{"steps": s.steps, "evaluations": s.evaluations, "frames_scale": s.frames_scale,
                        "resolution_scale": s.resolution_scale} for s in self.stages],
            "notes": list(self.notes),
        }


def _evaluations(stage: Stage, steps: int) -> int:
    """Evaluations of ``stage`` re-timed to ``steps``: a two-evaluation solver keeps its count of
    single-evaluation steps (Heun: the final step to t = 0), every other step costs two."""
    extra = stage.evaluations - stage.steps
    if extra == 0:
        return steps
    single = stage.steps - extra
    return steps + max(0, steps - single)


def _frac(x: float) -> str:
    return "1" if x == 1 else (f"1/{round(1 / x)}" if abs(1 / x - round(1 / x)) < 1e-9 else f"{x:g}")


def schedule_from_description(info: dict[str, Any]) -> SamplingSchedule:
    """The schedule an adapter's ``describe()`` states (see the module docstring)."""
    missing = [k for k in ("steps", "cfg_scale") if k not in info]
    if missing:
        raise ValueError(f"method {info.get('method', '?')!r} describes no {', '.join(missing)}; "
                         "give the adapter a schedule() returning a SamplingSchedule")
    cfg = float(info["cfg_scale"]) != 1.0
    frames, res = info.get("frames"), info.get("resolution")
    if info.get("stages"):
        if not frames:
            raise ValueError(f"method {info.get('method', '?')!r} describes stages but no frame count")
        stages = tuple(Stage(int(s["steps"]), s["frames"] / frames,
                             s.get("resolution", res) / res if res else 1.0) for s in info["stages"])
    else:  # one stage: a described NFE above steps x passes is a multi-evaluation solver (Heun)
        passes = 2 if cfg else 1
        nfe = int(info.get("nfe", int(info["steps"]) * passes))
        stages = (Stage(int(info["steps"]), evaluations=nfe // passes if nfe % passes == 0 else 0),)
    sched = SamplingSchedule(stages, cfg, str(info.get("method", "")))
    if "nfe" in info and int(info["nfe"]) != sched.nfe:
        raise ValueError(f"method {info.get('method', '?')!r} describes NFE {info['nfe']} but its steps and stages "
                         f"give {sched.nfe} (a multi-evaluation solver?); give the adapter a schedule()")
    if sched.steps != int(info["steps"]):
        raise ValueError(f"method {info.get('method', '?')!r} describes {info['steps']} steps but its stages hold {sched.steps}")
    return sched


def method_schedule(adapter: Any) -> SamplingSchedule:
    """The adapter's own ``schedule()`` when it has one, else the schedule its ``describe()`` states."""
    own = getattr(adapter, "schedule", None)
    sched = own() if callable(own) else None
    if sched is not None:
        if not isinstance(sched, SamplingSchedule):
            raise ValueError(f"{type(adapter).__name__}.schedule() returned {type(sched).__name__}, not a SamplingSchedule")
        return sched
    return schedule_from_description(adapter.describe())
