"""Parameter counts of a method: all it holds, and those that take part in inference.

The adapter contract does not list a method's networks, so they are found by walking the adapter's
attributes (modules, and modules inside containers and plain helper objects). "At inference" means
the parameter's storage was read by an op that ran during one counted generation
(:attr:`FlopReport.touched_storages`): a training-only head, an EMA copy or a discriminator held by
the adapter counts in the total but not at inference.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import torch

_MAX_DEPTH = 4


def find_modules(obj: Any, prefix: str = "", depth: int = _MAX_DEPTH, seen: set[int] | None = None) -> dict[str, torch.nn.Module]:
    """``{attribute path: module}`` of the top-level ``nn.Module`` objects reachable from ``obj``."""
    seen = set() if seen is None else seen
    found: dict[str, torch.nn.Module] = {}
    if depth < 0 or id(obj) in seen:
        return found
    seen.add(id(obj))
    if isinstance(obj, torch.nn.Module):
        found[prefix or "module"] = obj
        return found
    items: Iterable[tuple[str, Any]]
    if isinstance(obj, dict):
        items = ((str(k), v) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        items = ((str(i), v) for i, v in enumerate(obj))
    elif hasattr(obj, "__dict__") and not (inspect.isroutine(obj) or inspect.isclass(obj) or inspect.ismodule(obj)):
        items = vars(obj).items()
    else:
        return found
    for key, value in items:
        if isinstance(value, (str, bytes, int, float, bool, torch.Tensor)) or value is None:
            continue
        path = f"{prefix}.{key}" if prefix else key
        found.update(find_modules(value, path, depth - 1, seen))
    return found


def count_parameters(adapter: Any, touched_storages: frozenset[int] | None = None) -> dict[str, Any]:
    """Total parameters of the adapter's networks and, given the storages one generation touched,
    the number that take part in inference; per top-level network as well."""
    modules = find_modules(adapter)
    den = adapter.denoiser() if hasattr(adapter, "denoiser") else None
    if den is not None and not any(den[0] is sub for m in modules.values() for sub in m.modules()):
        modules["denoiser"] = den[0]
    seen: set[int] = set()
    total = used = 0
    by_module: dict[str, dict[str, int | None]] = {}
    for name, module in modules.items():
        m_total = m_used = 0
        for p in module.parameters():
            if id(p) in seen:
                continue  # shared between networks: counted once, under the first
            seen.add(id(p))
            m_total += p.numel()
            if touched_storages is not None and p.numel() and p.untyped_storage().data_ptr() in touched_storages:
                m_used += p.numel()
        total += m_total
        used += m_used
        by_module[name] = {"total": m_total, "at_inference": m_used if touched_storages is not None else None}
    return {
        "total": total,
        "at_inference": used if touched_storages is not None else None,
        "by_module": by_module,
    }
