"""The ``baseline`` method: the full-cost latent video diffusion model every efficient method is
measured against. 30 Euler steps with classifier-free guidance (60 denoiser evaluations per video),
16 frames at 32x32, on the shared backbone (:mod:`vbench_lite.methods.backbone`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vbench_lite.method import MethodAdapter

if TYPE_CHECKING:
    import torch

    from vbench_lite.spec import GenerationSpec

__all__ = ["BaselineMethod"]

FRAMES = 16
RESOLUTION = 32


class BaselineMethod(MethodAdapter):
    """Full-cost baseline: space-time UNet latent flow matching, 30 Euler steps with CFG."""

    name: ClassVar[str] = "baseline"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = {}
    micro_batch: ClassVar[int] = 16  # canonical micro-batch (32 denoiser rows with CFG)
    train_command: ClassVar[str] = "python -m vbench_lite train --method baseline"

    def __init__(
        self, variant: str | None = None, weights: str | Path | None = None,
        autoencoder: str | Path | None = None,
    ) -> None:
        super().__init__(variant)
        from vbench_lite.methods.baseline.recipe import WEIGHTS_DIR

        self.weights_dir = Path(weights) if weights else WEIGHTS_DIR
        self.autoencoder_dir = Path(autoencoder) if autoencoder else None
        self._gen: Any = None
        self._info: dict[str, Any] = {}

    # -- loading -------------------------------------------------------------------------------
    def load(self, device: str = "cpu") -> None:
        from vbench_lite.methods.backbone.autoencoder import load_autoencoder
        from vbench_lite.methods.backbone.checkpoint import CheckpointError
        from vbench_lite.methods.backbone.model import load_model
        from vbench_lite.methods.backbone.pipeline import SamplerConfig

        model, config, sha = load_model(self.weights_dir, self.train_command)
        ae, ae_sha = load_autoencoder(self.autoencoder_dir)
        if config.get("autoencoder_sha256") != ae_sha:
            raise CheckpointError(
                f"checkpoint {self.weights_dir} was trained with another autoencoder "
                f"({str(config.get('autoencoder_sha256'))[:12]}... != {ae_sha[:12]}...); "
                f"retrain it with: {self.train_command}"
            )
        import copy

        ae = copy.deepcopy(ae).to(device)  # the cached autoencoder is shared: never move it
        sampler = SamplerConfig(**config.get("sampler", {"steps": 30, "sampler": "euler"}))
        self._gen = self.make_generator(model.to(device), ae, sampler)
        self._info = {"weights_sha256": sha, "autoencoder_sha256": ae_sha, "config": config, "device": device}

    def make_generator(self, model: Any, autoencoder: Any, sampler: Any) -> Any:
        """The sampling pipeline; methods built on the baseline override this one hook."""
        from vbench_lite.methods.backbone.pipeline import LatentVideoGenerator

        return LatentVideoGenerator(model, autoencoder, sampler, micro_batch=self.micro_batch)

    @property
    def generator(self) -> Any:
        """The loaded sampling pipeline (its ``sampler`` settings may be replaced for ablations)."""
        return self._generator()

    def _generator(self) -> Any:
        if self._gen is None:
            raise RuntimeError(f"method {self.full_name!r} is not loaded: call load(device) first")
        return self._gen

    # -- the contract --------------------------------------------------------------------------
    def generate(self, prompts: list[str], seeds: list[int], spec: GenerationSpec) -> torch.Tensor:
        check_spec(spec)
        return self._generator().generate(list(prompts), [int(s) for s in seeds], spec.frames, spec.resolution)

    def describe(self) -> dict[str, Any]:
        gen = self._generator()
        model = gen.model
        count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
        return {
            "method": self.full_name,
            "params": count(model) + count(gen.autoencoder.decoder),
            "params_breakdown": {"unet": count(model.unet), "text_encoder": count(model.text_encoder),
                                 "decoder": count(gen.autoencoder.decoder)},
            "steps": gen.sampler.steps,
            "sampler": gen.sampler.sampler,
            "cfg_scale": gen.sampler.cfg_scale,
            "timestep_shift": gen.sampler.shift,
            "nfe": gen.sampler.nfe,
            "frames": FRAMES,
            "resolution": RESOLUTION,
            "micro_batch": self.micro_batch,
            "weights_sha256": self._info["weights_sha256"],
            "autoencoder_sha256": self._info["autoencoder_sha256"],
            "training": self._info["config"].get("training", {}),
        }

    def denoiser(self) -> tuple[Any, tuple[Any, ...]]:
        """The UNet and the inputs of one CFG call on a canonical micro-batch (32 rows)."""
        gen = self._generator()
        return gen.model.unet, gen.example_inputs(FRAMES, RESOLUTION)

    @staticmethod
    def train(steps: int | None = None, seed: int = 0, out: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """``python -m vbench_lite train --method baseline``: see :mod:`.recipe`."""
        from vbench_lite.methods.baseline.recipe import DEFAULT_STEPS, train_baseline

        return train_baseline(steps=steps or DEFAULT_STEPS, seed=seed, out=out, **kwargs)


def check_spec(spec: GenerationSpec) -> None:
    if spec.resolution != RESOLUTION:
        raise ValueError(f"spec.resolution {spec.resolution} is not supported by baseline; use {RESOLUTION}")
    if spec.frames != FRAMES:
        raise ValueError(f"spec.frames {spec.frames} is not supported by baseline; use {FRAMES}")
