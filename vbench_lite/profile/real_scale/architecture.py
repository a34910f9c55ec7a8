"""Shipped configurations of real video diffusion models, built on PyTorch's ``meta`` device.

Each ``vbench_lite/assets/architectures/<name>.json`` holds the public ``config.json`` values of a
model's denoiser, VAE and text encoders (every block names the file it was copied from), the latent
geometry of its VAE and its pipeline's default sampling settings. :func:`build` instantiates one
component with its diffusers / transformers class under ``torch.device("meta")``: every parameter
is a shape without storage, so a 13B model is built in a fraction of a second with no memory and
no weights are ever read or downloaded.
"""

from __future__ import annotations

import copy
import importlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA = "vbench_lite.architecture/1"
INSTALL_HINT = 'pip install "vbench-lite[real]"'


def architectures_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "assets" / "architectures"


def list_architectures() -> list[str]:
    return sorted(p.stem for p in architectures_dir().glob("*.json"))


@dataclass(frozen=True)
class Architecture:
    """One shipped configuration (see the module docstring); ``raw`` is the JSON as shipped."""

    name: str
    title: str
    family: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    changes: tuple[str, ...] = ()  # documented edits applied to the shipped config (transforms.py)

    @property
    def denoiser(self) -> dict[str, Any]:
        return self.raw["denoiser"]

    @property
    def vae(self) -> dict[str, Any] | None:
        return self.raw.get("vae")

    @property
    def text_encoders(self) -> list[dict[str, Any]]:
        return list(self.raw.get("text_encoders") or [])

    @property
    def latent(self) -> dict[str, Any]:
        return self.raw["latent"]

    @property
    def sampling(self) -> dict[str, Any]:
        return self.raw["sampling"]

    @property
    def levels(self) -> dict[str, Any] | None:
        return self.raw.get("levels")

    def with_denoiser_config(self, config: dict[str, Any], change: str) -> Architecture:
        """A copy whose denoiser config is ``config``, with ``change`` recorded."""
        raw = copy.deepcopy(self.raw)
        raw["denoiser"]["config"] = config
        return Architecture(self.name, self.title, self.family, raw, (*self.changes, change))


@cache
def _read(name: str) -> dict[str, Any]:
    path = architectures_dir() / f"{name}.json"
    if not path.is_file():
        known = ", ".join(list_architectures())
        raise ValueError(f"unknown architecture {name!r}; shipped architectures: {known}")
    raw = json.loads(path.read_text())
    if raw.get("schema") != SCHEMA:
        raise ValueError(f"{path} has schema {raw.get('schema')!r}, expected {SCHEMA!r}")
    return raw


def load_architecture(name: str) -> Architecture:
    """The shipped configuration ``name`` (see :func:`list_architectures`)."""
    raw = copy.deepcopy(_read(name))
    return Architecture(raw["name"], raw["title"], raw["family"], raw)


def _library(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ValueError(f"real-scale profiles build models with {name}, which is not installed; "
                         f"install it with: {INSTALL_HINT}") from exc


def build(component: dict[str, Any], device: str = "meta", dtype: Any = None) -> Any:
    """The module of one component (``denoiser``, ``vae`` or a text encoder), on the meta device
    by default (no storage); on a real device its weights are the classes' random initialisation,
    created there in ``dtype`` directly (a 13B model never exists in float32)."""
    import torch

    lib = _library(component["library"])
    cls = getattr(lib, component["class"])
    previous = torch.get_default_dtype()
    try:
        if dtype is not None:
            torch.set_default_dtype(dtype)
        with torch.device(device):
            if "config_class" in component:  # transformers: a config object, then the model
                model = cls(getattr(lib, component["config_class"])(**component["config"]))
            else:  # diffusers: the config.json keys are the constructor's arguments
                model = cls(**component["config"])
    finally:
        torch.set_default_dtype(previous)
    return model.eval()
