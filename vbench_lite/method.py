"""The method adapter contract: the whole surface a video generation method implements.

A method registers in the entry-point group ``vbench_lite.methods`` (the built-in methods do so
through ``pyproject.toml`` exactly as a plugin would). The harness calls only what is below.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import torch

    from vbench_lite.spec import GenerationSpec


class MethodAdapter(abc.ABC):
    """A video generation method as the harness sees it.

    Contract:
    - ``name`` (registry name), ``version`` (bump when outputs change: it keys the video cache),
      ``variants`` (variant name -> one-line description; ``None`` is the default variant);
    - ``load(device)`` once before ``generate``;
    - ``generate(prompts, seeds, spec)`` returns uint8 ``[B, T, C, H, W]`` RGB; a video depends only
      on its (prompt, seed), never on what else is in the batch;
    - parts wrapped in ``vbench_lite.profile.stage("text" | "denoise" | "decode")``;
    - optional ``denoiser()`` -> (module, example inputs) for per-call FLOP breakdowns;
    - optional ``generation_spec()`` -> the ``GenerationSpec`` the method fixes itself (frames, size, fps);
    - optional ``schedule()`` -> a ``vbench_lite.profile.real_scale.SamplingSchedule`` (steps, CFG,
      pyramid stages) for real-scale projections; without one it is read from ``describe()``.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    variants: ClassVar[dict[str, str]] = {}

    def __init__(self, variant: str | None = None) -> None:
        if variant is not None and variant not in self.variants:
            known = ", ".join(sorted(self.variants)) or "(none)"
            raise ValueError(
                f"method {self.name!r} has no variant {variant!r}; known variants: {known}"
            )
        self.variant = variant

    @property
    def full_name(self) -> str:
        return f"{self.name}:{self.variant}" if self.variant else self.name

    @abc.abstractmethod
    def load(self, device: str = "cpu") -> None:
        """Load weights onto ``device``."""

    @abc.abstractmethod
    def generate(
        self, prompts: list[str], seeds: list[int], spec: GenerationSpec
    ) -> torch.Tensor:
        """Generate one video per (prompt, seed): uint8 ``[B, T, C, H, W]``."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Parameters, steps, NFE (CFG passes included), frames, resolution, weights SHA-256."""

    def denoiser(self) -> tuple[Any, tuple[Any, ...]] | None:
        """Optional: (module, example inputs) of one denoiser call, for per-call FLOP breakdowns."""
        return None

    def generation_spec(self) -> GenerationSpec | None:
        """Optional: the frames, size and fps this method generates at when it fixes them itself (a
        third-party pipeline configured by a method file); the run then uses it instead of the
        suite's defaults. ``None``: the harness's ``GenerationSpec`` (the shapes domain)."""
        return None

    def schedule(self) -> Any | None:
        """Optional: the sampling schedule as data (``SamplingSchedule``) for ``profile --architecture``;
        ``None`` lets the harness read it from ``describe()`` (steps, cfg_scale, nfe, stages)."""
        return None
