"""The generic method adapter for any checkpoint of the backbone: a weights folder (model + its
sampler + what it generates) and the frame autoencoder it was trained with.

A method on the backbone is a subclass that names its weights and, where its idea is a sampling
procedure, overrides :meth:`BackboneMethod.make_generator` (TPDiff: the pyramid). Everything the
harness sees comes from the loaded checkpoint: the sampler (:class:`.sampler.FlowSampler`, from
``config["sampler"]``), frames and resolution (``config["generation"]``; checkpoints exported
before that field existed were all trained on 16-frame 32x32 clips), the weights' SHA-256, and the
parameters of the modules that actually run (blocks in ``skip`` do not count).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vbench_lite.method import MethodAdapter

if TYPE_CHECKING:
    import torch

    from vbench_lite.methods.backbone.pipeline import LatentVideoGenerator
    from vbench_lite.spec import GenerationSpec

# What every checkpoint exported before ``config["generation"]`` existed was trained on.
LEGACY_GENERATION: dict[str, int] = {"frames": 16, "resolution": 32}


def count_parameters(module: Any, skip: tuple[str, ...] = ()) -> int:
    """Parameters of ``module``, less those of its submodules named in ``skip`` (they never run); a
    width-sliced subnet (:class:`.slicing.SubNet`) counts the leading-channel weights it uses."""
    if hasattr(module, "num_parameters"):
        return int(module.num_parameters(skip))
    total = sum(p.numel() for p in module.parameters())
    for name in skip:
        total -= sum(p.numel() for p in module.get_submodule(name).parameters())
    return total


class BackboneMethod(MethodAdapter):
    """A checkpoint of the shared backbone as a method (subclasses set ``name`` and the weights)."""

    micro_batch: ClassVar[int] = 16  # canonical micro-batch (2x the rows with CFG)
    train_command: ClassVar[str] = ""

    def __init__(
        self, variant: str | None = None, weights: str | Path | None = None,
        autoencoder: str | Path | None = None, skip: tuple[str, ...] = (),
    ) -> None:
        super().__init__(variant)
        self.weights_dir = Path(weights) if weights else self.default_weights(variant)
        self.autoencoder_dir = Path(autoencoder) if autoencoder else None
        self.skip = tuple(skip)
        self._gen: Any = None
        self._info: dict[str, Any] = {}

    def default_weights(self, variant: str | None) -> Path:
        """The shipped weights folder of ``variant``; a generic backbone checkpoint ships none, so a
        method that does overrides this, and a bare adapter needs ``weights=FOLDER`` (a usage error)."""
        raise ValueError(f"{type(self).__name__} ships no weights: pass weights=FOLDER (a backbone checkpoint folder)")

    # -- loading -------------------------------------------------------------------------------
    def load(self, device: str = "cpu") -> None:
        from vbench_lite.methods.backbone.autoencoder import load_autoencoder
        from vbench_lite.methods.backbone.checkpoint import CheckpointError
        from vbench_lite.methods.backbone.model import load_model

        model, config, sha = load_model(self.weights_dir, self.train_command)
        ae, ae_sha = load_autoencoder(self.autoencoder_dir)
        if config.get("autoencoder_sha256") != ae_sha:
            raise CheckpointError(
                f"checkpoint {self.weights_dir} was trained with another autoencoder "
                f"({str(config.get('autoencoder_sha256'))[:12]}... != {ae_sha[:12]}...); "
                f"retrain it with: {self.train_command}"
            )
        ae = copy.deepcopy(ae).to(device)  # the cached autoencoder is shared: never move it
        if "sampler" not in config:
            raise CheckpointError(f"checkpoint {self.weights_dir} has no sampler in its config.json")
        if self.skip:  # also in the example denoiser call that per-call FLOP breakdowns trace
            model.unet.check_skip(self.skip)
            model.unet.skipped = set(self.skip)
        self._gen = self.make_generator(model.to(device), ae, config)
        generation = {**LEGACY_GENERATION, **config.get("generation", {})}
        self._info = {"weights_sha256": sha, "autoencoder_sha256": ae_sha, "config": config, "device": device,
                      "frames": int(generation["frames"]), "resolution": int(generation["resolution"])}

    def make_generator(self, model: Any, autoencoder: Any, config: dict[str, Any]) -> LatentVideoGenerator:
        """The sampling pipeline for checkpoint ``config`` (its ``sampler`` entry is a
        :class:`FlowSampler` config); a method whose idea is a sampling procedure overrides this hook."""
        from vbench_lite.methods.backbone.pipeline import LatentVideoGenerator
        from vbench_lite.methods.backbone.sampler import FlowSampler

        sampler = FlowSampler.from_config(config["sampler"])
        return LatentVideoGenerator(model, autoencoder, sampler, micro_batch=self.micro_batch, skip=self.skip)

    @property
    def generator(self) -> LatentVideoGenerator:
        """The loaded sampling pipeline (its ``sampler`` may be replaced for ablations)."""
        if self._gen is None:
            raise RuntimeError(f"method {self.full_name!r} is not loaded: call load(device) first")
        return self._gen

    @property
    def frames(self) -> int:
        self.generator  # noqa: B018 - raises when not loaded
        return int(self._info["frames"])

    @property
    def resolution(self) -> int:
        self.generator  # noqa: B018 - raises when not loaded
        return int(self._info["resolution"])

    # -- the contract --------------------------------------------------------------------------
    def check_spec(self, spec: GenerationSpec) -> None:
        if spec.resolution != self.resolution:
            raise ValueError(f"spec.resolution {spec.resolution} is not supported by {self.full_name}; "
                             f"use {self.resolution}")
        if spec.frames != self.frames:
            raise ValueError(f"spec.frames {spec.frames} is not supported by {self.full_name}; use {self.frames}")

    def generate(self, prompts: list[str], seeds: list[int], spec: GenerationSpec) -> torch.Tensor:
        gen = self.generator
        self.check_spec(spec)
        return gen.generate(list(prompts), [int(s) for s in seeds], spec.frames, spec.resolution)

    def describe(self) -> dict[str, Any]:
        gen = self.generator
        model, decoder = gen.model, gen.autoencoder.decoder
        unet = count_parameters(model.unet, gen.skip)
        text, dec = count_parameters(model.text_encoder), count_parameters(decoder)
        samplers = gen.samplers
        return {
            "method": self.full_name,
            "params": unet + text + dec,
            "params_breakdown": {"unet": unet, "text_encoder": text, "decoder": dec},
            "steps": sum(s.steps for s in samplers),
            "sampler": "+".join(sorted({s.solver for s in samplers})),
            "cfg_scale": samplers[0].cfg_scale,
            "nfe": gen.nfe,
            "times": [list(s.times) for s in samplers] if len(samplers) > 1 else list(samplers[0].times),
            "skip": list(gen.skip),
            "frames": self.frames,
            "resolution": self.resolution,
            "micro_batch": gen.micro_batch,
            "weights_sha256": self._info["weights_sha256"],
            "autoencoder_sha256": self._info["autoencoder_sha256"],
            "training": self._info["config"].get("training", {}),
        }

    def stage_frames(self) -> list[int]:
        """The frames each of the generator's samplers runs on, in execution order (one stage: all)."""
        return [self.frames] * len(self.generator.samplers)

    def schedule(self) -> Any:
        """The sampling schedule as data, from the loaded sampler objects, for projections onto real
        architectures (``profile --architecture``, :mod:`vbench_lite.profile.real_scale`)."""
        from vbench_lite.profile.real_scale.schedule import SamplingSchedule

        scales = [f / self.frames for f in self.stage_frames()]
        return SamplingSchedule.from_samplers(self.generator.samplers, scales, label=self.full_name)

    def denoiser(self) -> tuple[Any, tuple[Any, ...]]:
        """The UNet and the inputs of one denoiser call on a canonical micro-batch."""
        gen = self.generator
        return gen.model.unet, gen.example_inputs(self.frames, self.resolution)
