"""Run files: a :class:`~vbench_lite.spec.RunSpec` written as TOML or JSON (``run --config FILE``).

The file's keys are the spec's fields, with ``method`` as ``NAME[:VARIANT]`` and the nested parts
as tables::

    method = "tpdiff"
    split = "validation"
    num_videos = 64
    metrics = ["fvd", "kvd", "vbench"]
    reference_method = "baseline"

    [profile]
    latency = false

    [metric_configs.fvd]
    detector = "i3d"
    detector_weights = "weights/i3d_torchscript.pt"
    bootstrap = 200

    [metric_configs.vbench]
    dimensions = ["subject_consistency", "temporal_flickering"]

Every key is checked: an unknown field, table or metric setting is an error naming what exists.
Relative weight paths are read relative to the run file's folder. Command-line flags given with
``--config`` override the file (``vbench_lite.cli.run_cmd``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import tomllib

from vbench_lite.spec import GenerationSpec, ProfileOptions, RunSpec, metric_configs_from_dict

FORMATS = (".toml", ".json")


class RunFileError(ValueError):
    """A run file that cannot be read or does not describe a run spec."""


def read_run_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's table, parsed by its suffix (``.toml`` or ``.json``)."""
    p = Path(path)
    if p.suffix not in FORMATS:
        raise RunFileError(f"run file {p}: use a .toml or .json file")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFileError(f"run file {p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFileError(f"run file {p} cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RunFileError(f"run file {p} is not valid {p.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise RunFileError(f"run file {p} must hold a table of run settings")
    return data


def spec_from_table(data: dict[str, Any], *, where: str = "run file", base_dir: Path | None = None,
                    method: str | None = None) -> RunSpec:
    """A checked :class:`RunSpec` from a run file's table; ``method`` (from the command line) wins
    over the file's."""
    data = dict(data)
    fields = {f.name for f in dataclasses.fields(RunSpec)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise RunFileError(f"{where}: unknown key(s) {', '.join(unknown)}; a run file has {', '.join(sorted(fields))}")
    method = method or data.pop("method", None)
    data.pop("method", None)
    if not isinstance(method, str):
        raise RunFileError(f"{where}: no method; give method = \"NAME[:VARIANT]\" (or --method)")
    variant = data.pop("variant", None)  # the recorded spec's form (results.json "spec")
    if variant is not None:
        if ":" in method:
            raise RunFileError(f"{where}: a variant is given twice (method {method!r} and variant {variant!r})")
        method = f"{method}:{variant}"
    try:
        if "generation" in data:
            data["generation"] = GenerationSpec(**_table(data["generation"], "generation", where))
        if "profile" in data:
            data["profile"] = ProfileOptions(**_table(data["profile"], "profile", where))
        if "metrics" in data:
            if not isinstance(data["metrics"], list) or not all(isinstance(m, str) for m in data["metrics"]):
                raise RunFileError(f"{where}: metrics must be a list of metric names")
            data["metrics"] = tuple(data["metrics"])
        configs = metric_configs_from_dict(_table(data.get("metric_configs", {}), "metric_configs", where))
        data["metric_configs"] = {n: _resolve_paths(c, base_dir) for n, c in configs.items()}
        return RunSpec.for_method(method, **data)
    except TypeError as exc:  # GenerationSpec(**...) / ProfileOptions(**...) with an unknown key
        raise RunFileError(f"{where}: {exc}") from None
    except ValueError as exc:
        raise RunFileError(f"{where}: {exc}") from None


def load_run_file(path: str | os.PathLike[str], *, method: str | None = None) -> RunSpec:
    p = Path(path)
    return spec_from_table(read_run_file(p), where=f"run file {p}", base_dir=p.resolve().parent, method=method)


def _table(value: Any, key: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RunFileError(f"{where}: {key} must be a table, got {type(value).__name__}")
    return value


def _resolve_paths(config: Any, base_dir: Path | None) -> Any:
    """Weight files given relative to the run file are read from its folder."""
    if base_dir is None:
        return config
    changes = {k: str((base_dir / v).resolve()) for k, v in config.weight_files().items() if not Path(v).is_absolute()}
    return dataclasses.replace(config, **changes) if changes else config
