"""``sned``: SNED, "Superposition Network Architecture Search for Efficient Video Diffusion Model"
(Li et al., CVPR 2024, arXiv 2406.00195).

One weight-sharing supernet (the baseline's UNet, initialised from its weights) serves subnets of
many costs and resolutions: dynamic channels and fine-grained dynamic blocks (:mod:`.search_space`),
trained with dynamic cost sampling and a sampling warm-up (:mod:`.cost_sampling`, :mod:`.task`,
:mod:`.recipe`). A variant is a named subnet (:mod:`.presets`): ``sned:s-32``, ``sned:m-32``,
``sned:l-32``, the same at 24 and 48 px; a custom one is ``SNEDMethod(arch=SubnetArch(...))``. Every
subnet samples as the baseline does (30 Euler steps with CFG).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vbench_lite.methods.backbone.adapter import BackboneMethod

if TYPE_CHECKING:
    from vbench_lite.methods.sned.search_space import SubnetArch
    from vbench_lite.spec import GenerationSpec

__all__ = ["SNEDMethod"]

DEFAULT_PRESET = "l-32"


def _variants() -> dict[str, str]:
    from vbench_lite.methods.sned.presets import PRESETS

    return {name: f"supernet subnet {arch.label()}" for name, arch in PRESETS.items()}


class SNEDMethod(BackboneMethod):
    """A subnet of the SNED supernet: widths per level, skipped blocks and resolution."""

    name: ClassVar[str] = "sned"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = _variants()
    train_command: ClassVar[str] = "python -m vbench_lite train --method sned"

    def __init__(self, variant: str | None = None, weights: str | Path | None = None,
                 autoencoder: str | Path | None = None, arch: SubnetArch | None = None) -> None:
        from vbench_lite.methods.sned.presets import PRESETS, SPACE

        super().__init__(variant, weights, autoencoder)
        if arch is not None and variant is not None:
            raise ValueError("give either a preset variant or arch=SubnetArch(...), not both")
        self.arch = SPACE.check(arch) if arch is not None else PRESETS[variant or DEFAULT_PRESET]

    def default_weights(self, variant: str | None) -> Path:
        from vbench_lite.methods.sned.recipe import weights_dir

        return weights_dir(None)

    @property
    def full_name(self) -> str:
        from vbench_lite.methods.sned.presets import PRESETS

        if self.variant is None and self.arch != PRESETS[DEFAULT_PRESET]:
            return f"{self.name}[{self.arch.label()}]"
        return super().full_name

    def generation_spec(self) -> GenerationSpec | None:
        """A subnet at 24 or 48 px generates at that size (known before ``load``); at the suite's
        default 32 px, ``None``: the harness's default spec, so its run keeps the baseline as its
        reference method (fidelity, paired speedup)."""
        from vbench_lite.spec import GenerationSpec

        spec = GenerationSpec(frames=16, resolution=self.arch.resolution)
        return None if spec == GenerationSpec() else spec

    def make_generator(self, model: Any, autoencoder: Any, config: dict[str, Any]) -> Any:
        from vbench_lite.methods.backbone.slicing import subnet

        model.unet = subnet(model.unet, self.arch.widths, self.arch.skip, self.arch.resolution)
        return super().make_generator(model, autoencoder, config)

    def load(self, device: str = "cpu") -> None:
        super().load(device)
        self._info["resolution"] = self.arch.resolution

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["skip"] = list(self.arch.skip)
        info["sned"] = {"arch": self.arch.to_dict(), "supernet": self._info["config"].get("sned", {}).get("init")}
        return info

    @staticmethod
    def train(steps: int | None = None, seed: int = 0, out: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """``python -m vbench_lite train --method sned[:no-warmup|:standalone-m-32]``: see :mod:`.recipe`."""
        from vbench_lite.methods.sned.recipe import train_sned

        return train_sned(steps=steps, seed=seed, out=out, **kwargs)
