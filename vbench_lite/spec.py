"""Frozen, hashable run specifications built from the CLI or a file.

``RunSpec`` says what to run; ``GenerationSpec`` is the part a method's ``generate()`` sees.
``content_hash`` is a stable SHA-256 of the canonical JSON form, used in cache keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from vbench_lite.metrics.base import MetricConfig
from vbench_lite.registry import split_name

SPLITS = ("eval", "validation", "reference", "train")
DEVICES = ("cpu", "cuda")
SUPPORTED_RESOLUTIONS = (24, 32, 48, 64)
# The method a run's fidelity and paired speedup refer to unless the run names another
# (``--reference-method``): the one place the harness names a method, as the spec's default.
DEFAULT_REFERENCE_METHOD = "baseline"


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no whitespace) for hashing."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, GenerationSpec):
        return obj.to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} into a spec")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class GenerationSpec:
    """What ``MethodAdapter.generate`` must produce: frame count, resolution and frame rate.

    ``resolution`` is the square frame size of the shapes domain; ``size`` = (height, width) is the
    frame size of a method that generates at its own size (a diffusers pipeline), and then wins.
    """

    frames: int = 16
    resolution: int = 32
    fps: int = 8
    size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames must be at least 1, got {self.frames}")
        if self.size is not None:
            size = tuple(int(x) for x in self.size)
            if len(size) != 2 or min(size) < 1:
                raise ValueError(f"size must be (height, width) in pixels, got {self.size}")
            object.__setattr__(self, "size", size)
        elif self.resolution not in SUPPORTED_RESOLUTIONS:
            raise ValueError(
                f"resolution {self.resolution} is not supported; use one of {SUPPORTED_RESOLUTIONS}"
            )
        if self.fps < 1:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def height(self) -> int:
        return self.size[0] if self.size is not None else self.resolution

    @property
    def width(self) -> int:
        return self.size[1] if self.size is not None else self.resolution

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``size`` only when set, so specs of square sizes keep their hashes."""
        d: dict[str, Any] = {"frames": self.frames, "resolution": self.resolution, "fps": self.fps}
        if self.size is not None:
            d["size"] = list(self.size)
        return d


@dataclass(frozen=True)
class ProfileOptions:
    """Cost profiling settings: whether to profile, whether to time, and latency repeats."""

    enabled: bool = True
    latency: bool = True  # False: FLOPs, parameters and memory only (CI on shared machines)
    # Sized so a default profile stays under a minute on the 2-core reference machine: the untimed
    # FLOP-counting run comes first and warms the method up; the IQR flag catches a noisy timing.
    warmup: int = 0
    repeats: int = 3
    batch_size: int = 16
    threads: int | None = None  # None: torch's current setting, recorded in the profile

    def __post_init__(self) -> None:
        if self.repeats < 2:
            raise ValueError(f"latency needs at least 2 measured repeats, got {self.repeats}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")


@dataclass(frozen=True)
class RunSpec:
    """One evaluation run of one method variant on one suite split."""

    method: str
    variant: str | None = None
    suite: str = "shapes"
    split: str = "eval"
    num_videos: int | None = None  # None: the whole split
    seed_offset: int = 0  # index of the first video of the split
    generation: GenerationSpec = field(default_factory=GenerationSpec)
    metrics: tuple[str, ...] = ()
    device: str = "cpu"
    batch_size: int = 16  # the canonical micro-batch size; results never depend on it
    profile: ProfileOptions = field(default_factory=ProfileOptions)
    # The method fidelity compares against and the batch latency is paired with (interleaved in one
    # process, vbench_lite.profile.paired: the leaderboard's Speedup); loaded once per run. None
    # (or the method itself) times the method alone and leaves fidelity out.
    reference_method: str | None = DEFAULT_REFERENCE_METHOD
    # Each metric's settings (its Metric.config_class), by metric name, sorted; a metric without an
    # entry runs with its defaults. Given as a dict, it is stored as sorted (name, config) pairs.
    metric_configs: tuple[tuple[str, MetricConfig], ...] = ()

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"unknown split {self.split!r}; use one of {', '.join(SPLITS)}")
        if self.device not in DEVICES and not self.device.startswith("cuda:"):
            raise ValueError(f"unknown device {self.device!r}; use cpu or cuda")
        if self.num_videos is not None and self.num_videos < 1:
            raise ValueError(f"--num-videos must be at least 1, got {self.num_videos}")
        if self.seed_offset < 0:
            raise ValueError(f"seed_offset must be >= 0, got {self.seed_offset}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"metrics listed twice: {self.metrics}")
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if self.reference_method is not None:
            split_name(self.reference_method)  # NAME[:VARIANT], else ValueError
        configs = self.metric_configs
        pairs = list(configs.items()) if isinstance(configs, dict) else [tuple(p) for p in configs]
        names = [n for n, _ in pairs]
        if len(set(names)) != len(names):
            raise ValueError(f"metric settings given twice: {sorted(names)}")
        for n, c in pairs:
            if not isinstance(c, MetricConfig):
                raise ValueError(f"the settings of metric {n!r} must be a MetricConfig, got {type(c).__name__}")
        object.__setattr__(self, "metric_configs", tuple(sorted(pairs, key=lambda p: p[0])))

    @classmethod
    def for_method(cls, method_spec: str, **kwargs: Any) -> RunSpec:
        """Build from ``"NAME[:VARIANT]"``."""
        name, variant = split_name(method_spec)
        return cls(method=name, variant=variant, **kwargs)

    @property
    def method_id(self) -> str:
        return f"{self.method}:{self.variant}" if self.variant else self.method

    def metric_config(self, name: str) -> MetricConfig | None:
        """The settings given for metric ``name`` (None: its defaults)."""
        return next((c for n, c in self.metric_configs if n == name), None)

    @property
    def paired_reference(self) -> str | None:
        """The reference method the latency is paired with: None when it is the method itself."""
        return None if self.reference_method in (None, self.method_id) else self.reference_method

    def to_dict(self) -> dict[str, Any]:
        """JSON-native form (tuples become lists), as stored in ``results.json``."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["generation"] = self.generation.to_dict()
        d["metric_configs"] = {n: c.to_dict() for n, c in self.metric_configs}
        return json.loads(canonical_json(d))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        data = dict(data)
        data["generation"] = GenerationSpec(**data.get("generation", {}))
        profile = dict(data.get("profile", {}))
        if "reference" in profile:  # a spec recorded before the reference method moved to the run
            data.setdefault("reference_method", profile.pop("reference"))
        data["profile"] = ProfileOptions(**profile)
        data["metrics"] = tuple(data.get("metrics", ()))
        data["metric_configs"] = metric_configs_from_dict(data.get("metric_configs") or {})
        return cls(**data)

    def content_hash(self, *, exclude: tuple[str, ...] = ()) -> str:
        # A spec without metric settings hashes as it did before they were part of the spec, so the
        # run ids of such runs keep their form; settings given are covered.
        """Stable SHA-256 of the spec (fields in ``exclude`` left out)."""
        d = {k: v for k, v in self.to_dict().items() if k not in exclude}
        if not d.get("metric_configs"):
            d.pop("metric_configs", None)
        return sha256_text(canonical_json(d))


def metric_configs_from_dict(data: dict[str, Any]) -> dict[str, MetricConfig]:
    """``{metric name: settings dict}`` (a run file, a recorded spec) as typed configs, each checked
    against the metric's declared config class (unknown metric or setting: ValueError)."""
    from vbench_lite.registries import METRICS

    if not isinstance(data, dict):
        raise ValueError(f"metric_configs must be a table of metric name -> settings, got {type(data).__name__}")
    out = {}
    for name, settings in data.items():
        if not isinstance(settings, dict):
            raise ValueError(f"metric_configs.{name} must be a table of settings, got {type(settings).__name__}")
        cls = getattr(METRICS.get(name), "config_class", MetricConfig)  # unknown name -> did-you-mean
        out[name] = cls.from_dict(settings, metric=name)
    return out
