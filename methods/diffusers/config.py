"""A diffusers pipeline as a leaderboard row: the method file and what it resolves to.

A method file (TOML or JSON) names a local pipeline folder and the settings of one row::

    name = "wan-1.3b-4step"          # the row: diffusers:wan-1.3b-4step
    model = "/models/Wan2.1-T2V-1.3B-Diffusers"   # a folder written by save_pretrained
    pipeline_class = "WanPipeline"   # optional: default model_index.json's _class_name
    steps = 4                        # num_inference_steps (default: the pipeline's)
    guidance_scale = 1.0             # (default: the pipeline's)
    frames = 81                      # num_frames
    height = 480
    width = 832
    fps = 16
    dtype = "bfloat16"               # float32 | float16 | bfloat16
    negative_prompt = ""             # optional
    micro_batch = 1                  # videos per pipeline call (fixed; see DiffusersMethod)
    [call_kwargs]                    # optional: more keyword arguments of the pipeline's __call__
    max_sequence_length = 226

A relative ``model`` is relative to the method file. Frames, height and width left out come from
the pipeline: the defaults of its ``__call__`` and, where those are None (TextToVideoSDPipeline),
the denoiser's ``sample_size`` times the VAE's spatial scale, as the pipeline itself computes them.
Nothing here imports diffusers unless the pipeline class must be inspected.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DTYPES = ("float32", "float16", "bfloat16")
DENOISERS = ("unet", "transformer", "transformer_2")
EXTRA_HINT = 'pip install -e ".[diffusers]"'


def row_name(text: str) -> str:
    """A variant name (lowercase words joined by '-') from a folder or file name."""
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.") or "model"


@dataclass(frozen=True)
class DiffusersConfig:
    """One row: a local pipeline folder and how to call it (see the module docstring)."""

    model: str
    name: str = ""
    pipeline_class: str | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    frames: int | None = None
    height: int | None = None
    width: int | None = None
    fps: int = 8
    dtype: str = "float32"
    negative_prompt: str | None = None
    micro_batch: int = 1
    call_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", row_name(Path(self.model).name))
        if self.name != row_name(self.name):
            raise ValueError(f"method file name {self.name!r}: use lowercase words joined by '-' (e.g. wan-1.3b-4step)")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")
        for key in ("steps", "frames", "height", "width", "fps", "micro_batch"):
            v = getattr(self, key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"{key} must be a positive integer, got {v!r}")
        if not isinstance(self.call_kwargs, dict):
            raise ValueError("call_kwargs must be a table of keyword arguments")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "method file") -> DiffusersConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known - {"method"})
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        if data.get("method", "diffusers") != "diffusers":
            raise ValueError(f"{where} is for method {data['method']!r}, not diffusers")
        if not data.get("model"):
            raise ValueError(f"{where} names no model folder (model = \"DIR\")")
        try:
            return cls(**{k: v for k, v in data.items() if k != "method"})
        except TypeError as exc:
            raise ValueError(f"{where}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> DiffusersConfig:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ValueError(f"--method-file {path}: " + ("is a folder; give the .toml or .json file" if p.exists()
                                                         else "no such file"))
        text = p.read_text(encoding="utf-8")
        try:
            if p.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                try:
                    import tomllib
                except ModuleNotFoundError:  # Python 3.10
                    raise ValueError(f"{p}: TOML method files need Python 3.11 (tomllib); write it as JSON") from None
                data = tomllib.loads(text)
        except ValueError as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
            raise ValueError(f"method file {p} does not parse: {str(exc).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise ValueError(f"method file {p} must be a table of settings")
        model = Path(str(data.get("model", ""))).expanduser()
        if data.get("model") and not model.is_absolute():
            data = {**data, "model": str((p.parent / model).resolve())}
        return cls.from_dict(data, where=f"method file {p}")


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a readable JSON file ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def model_index(model: str | Path) -> dict[str, Any]:
    """The pipeline folder's ``model_index.json``; a folder that has none is not a diffusers pipeline."""
    d = Path(model).expanduser()
    if not d.exists():
        raise ValueError(f"--model {model}: no such folder")
    if not d.is_dir():
        raise ValueError(f"--model {model} is not a folder; give the folder a diffusers pipeline's save_pretrained wrote")
    index = d / "model_index.json"
    if not index.is_file():
        raise ValueError(f"--model {model} is not a diffusers pipeline folder (no model_index.json); give the folder "
                         "that DiffusionPipeline.save_pretrained wrote")
    data = read_json(index)
    if not isinstance(data.get("_class_name"), str):
        raise ValueError(f"{index} names no pipeline class (_class_name)")
    return data


def component_config(model: str | Path, component: str) -> dict[str, Any] | None:
    path = Path(model).expanduser() / component / "config.json"
    return read_json(path) if path.is_file() else None


def default_size(model: str | Path, index: dict[str, Any], call_defaults: dict[str, Any]) -> tuple[int, int]:
    """(height, width) the pipeline generates at by default (see the module docstring)."""
    h, w = call_defaults.get("height"), call_defaults.get("width")
    if isinstance(h, int) and isinstance(w, int):
        return h, w
    vae = component_config(model, "vae") or {}
    scale = 2 ** (len(vae.get("block_out_channels", [0])) - 1)
    for name in DENOISERS:
        if name in index and (cfg := component_config(model, name)) is not None:
            size = cfg.get("sample_size")
            if isinstance(size, int):
                return size * scale, size * scale
            if isinstance(size, (list, tuple)) and len(size) == 2:
                return int(size[0]) * scale, int(size[1]) * scale
            if isinstance(cfg.get("sample_height"), int) and isinstance(cfg.get("sample_width"), int):
                return cfg["sample_height"] * scale, cfg["sample_width"] * scale
    raise ValueError(f"cannot tell the frame size of the pipeline at {model}; give height and width in a method file")
