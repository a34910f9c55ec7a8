"""Stage attribution of a diffusers pipeline by module hooks, and the denoiser calls counted.

The pipeline is never edited: forward pre-hooks enter a :func:`vbench_lite.profile.stage` and
forward hooks (``always_call=True``, so an exception closes the stage too) leave it, on
- ``text``: every text encoder component (``text_encoder``, ``text_encoder_2``, ...);
- ``denoise``: the denoiser (``unet``, ``transformer``, ``transformer_2``);
- ``decode``: the VAE's ``decoder`` and ``post_quant_conv`` (what ``vae.decode`` runs).
The denoiser's pre-hook also counts its calls and the rows of each call (its first tensor
argument's batch size): NFE per video is rows / videos, so classifier-free guidance counts twice
whether the pipeline batches it (2B rows per call) or calls the network twice (Wan), and the first
call's arguments are kept as the example of one denoiser call (per-call FLOP breakdowns).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch

from vbench_lite.profile import stage

TEXT_PREFIX = "text_encoder"
DENOISERS = ("unet", "transformer", "transformer_2")
DECODER_PARTS = ("post_quant_conv", "decoder")


@dataclass
class DenoiserCalls:
    """Calls and rows of the denoiser since the last :meth:`reset`, and the first call's inputs."""

    calls: int = 0
    rows: int = 0
    example: tuple[str, tuple[Any, ...]] | None = None  # (component name, positional inputs)

    def reset(self) -> None:
        self.calls = self.rows = 0


def _first_tensor(args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    for v in (*args, *kwargs.values()):
        if isinstance(v, torch.Tensor):
            return v
    return None


def positional_inputs(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The call's arguments in ``forward``'s order up to its last tensor argument (for jit.trace)."""
    bound = inspect.signature(module.forward).bind_partial(*args, **kwargs)
    params = list(inspect.signature(module.forward).parameters.values())
    values = [bound.arguments.get(p.name, p.default) for p in params]
    last = max((i for i, v in enumerate(values) if isinstance(v, torch.Tensor)), default=-1)
    return tuple(v.detach().clone() if isinstance(v, torch.Tensor) else v for v in values[: last + 1])


class StageHooks:
    """Hooks on one pipeline's components; :meth:`remove` takes them all off. It keeps component
    names, never the modules (parameter counts walk the adapter's attributes)."""

    def __init__(self, pipe: Any) -> None:
        self.handles: list[Any] = []
        self.counter = DenoiserCalls()
        components = getattr(pipe, "components", {})
        self.text = [n for n, m in components.items() if n.startswith(TEXT_PREFIX) and isinstance(m, torch.nn.Module)]
        self.denoisers = [n for n in DENOISERS if isinstance(components.get(n), torch.nn.Module)]
        vae = components.get("vae")
        decode = [n for n in DECODER_PARTS if isinstance(getattr(vae, n, None), torch.nn.Module)]
        self.decode = [f"vae.{n}" for n in decode]
        for n in self.text:
            self._staged(components[n], "text")
        for n in self.denoisers:
            self._staged(components[n], "denoise")
            self.handles.append(components[n].register_forward_pre_hook(self._counter(n), with_kwargs=True))
        for n in decode:
            self._staged(getattr(vae, n), "decode")

    def _staged(self, module: torch.nn.Module, name: str) -> None:
        open_stages: list[Any] = []

        def enter(m: torch.nn.Module, args: Any) -> None:
            cm = stage(name)
            cm.__enter__()
            open_stages.append(cm)

        def leave(m: torch.nn.Module, args: Any, out: Any) -> None:
            if open_stages:
                open_stages.pop().__exit__(None, None, None)

        self.handles.append(module.register_forward_pre_hook(enter))
        self.handles.append(module.register_forward_hook(leave, always_call=True))

    def _counter(self, name: str) -> Any:
        def count(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            x = _first_tensor(args, kwargs)
            self.counter.calls += 1
            self.counter.rows += int(x.shape[0]) if x is not None and x.dim() > 0 else 1
            if self.counter.example is None:
                self.counter.example = (name, positional_inputs(module, args, kwargs))

        return count

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()
