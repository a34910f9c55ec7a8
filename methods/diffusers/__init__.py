"""The ``diffusers`` method: any local diffusers text-to-video pipeline as a leaderboard row.

``run --method diffusers --model DIR`` (row ``diffusers:<folder name>``) or ``--method-file FILE``
(row ``diffusers:<name>``, see :mod:`.config`) loads the pipeline with ``local_files_only=True``:
nothing is downloaded, and a missing folder or file is a one-line error naming it. diffusers and
transformers are an optional extra (``pip install -e ".[diffusers]"``), imported only by ``load``.

Reproducibility: every video gets its own CPU ``torch.Generator`` seeded with its seed, and the
pipeline is always called on ``micro_batch`` videos (a short request is padded by repeating its
last prompt and seed, the padding discarded), so a video is bit-identical however the harness
batches it. The output (``output_type="pt"``, floats in [0, 1]) becomes uint8 ``[B, T, C, H, W]``
by ``round(255 x)``.

Cost: the text encoders, denoiser and VAE decoder run inside ``stage("text" | "denoise" |
"decode")`` by module hooks (:mod:`.hooks`); NFE is counted from the denoiser's calls (rows per
video, so CFG counts), remembered per pipeline identity, and reported by ``describe()``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vbench_lite.method import MethodAdapter
from vbench_lite.methods.diffusers.config import EXTRA_HINT, DiffusersConfig, default_size, model_index

if TYPE_CHECKING:
    import torch

    from vbench_lite.spec import GenerationSpec

__all__ = ["DiffusersConfig", "DiffusersMethod"]

logger = logging.getLogger(__name__)

# Configurations built from --model / --method-file in this process, by row name, so that a child
# process that builds the method by name (the CPU peak-memory worker) gets the same pipeline.
CONFIGS_ENV = "VBENCH_LITE_DIFFUSERS_METHODS"
# Folders (or files) of method files: ``diffusers:NAME`` finds NAME.toml / NAME.json there.
METHOD_FILES_ENV = "VBENCH_LITE_METHOD_FILES"
# Keyword arguments of a pipeline's __call__ that make it text-to-video, and those that make it something else.
NEEDS_PARAMS = ("prompt", "num_frames")
OTHER_INPUTS = ("image", "video", "control_video", "conditions")


def _published() -> dict[str, Any]:
    try:
        return json.loads(os.environ.get(CONFIGS_ENV, "{}"))
    except json.JSONDecodeError:
        return {}


def _find_method_file(name: str) -> Path | None:
    for entry in filter(None, os.environ.get(METHOD_FILES_ENV, "").split(os.pathsep)):
        p = Path(entry).expanduser()
        candidates = [p] if p.is_file() else [p / f"{name}.toml", p / f"{name}.json"]
        for c in candidates:
            if c.is_file() and (c.stem == name or DiffusersConfig.from_file(c).name == name):
                return c
    return None


def folder_sha256(model: Path) -> str:
    """SHA-256 over (relative path, file SHA-256) of every file of the pipeline folder; each file's
    hash is cached by (path, size, mtime) so a multi-GB model is hashed once."""
    from vbench_lite.fsutil import cache_dir, read_cache_json, sha256_file, write_cache_json

    h = hashlib.sha256()
    for f in sorted(p for p in model.rglob("*") if p.is_file() and not p.name.startswith(".")):
        st = f.stat()
        key = hashlib.sha256(f"{f.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()
        path = cache_dir("file_sha256") / f"{key}.json"
        cached = read_cache_json(path)
        sha = cached["sha256"] if cached else sha256_file(f)
        if not cached:
            write_cache_json(path, {"sha256": sha})
        h.update(f"{f.relative_to(model).as_posix()}\0{sha}\n".encode())
    return h.hexdigest()


class DiffusersMethod(MethodAdapter):
    """A local diffusers text-to-video pipeline (``--model DIR`` or ``--method-file FILE``)."""

    name: ClassVar[str] = "diffusers"
    version: ClassVar[str] = "1"
    variants: ClassVar[dict[str, str]] = {}

    def __init__(self, variant: str | None = None, model: str | os.PathLike[str] | None = None,
                 method_file: str | os.PathLike[str] | None = None, config: DiffusersConfig | None = None) -> None:
        if method_file is not None:
            config = DiffusersConfig.from_file(method_file)
        if config is None and model is not None:
            config = DiffusersConfig(model=str(Path(model).expanduser().resolve()), name=variant or "")
        if config is None:
            config = self._named(variant)
        elif method_file is not None and model is not None:
            config = DiffusersConfig(**{**config.to_dict(), "model": str(Path(model).expanduser().resolve())})
        self.config = config
        self.variant = config.name  # the row name (a method file's name, or the folder's)
        self.index = model_index(config.model)  # not a pipeline folder: a one-line error before any work
        published = _published()
        published[config.name] = config.to_dict()
        os.environ[CONFIGS_ENV] = json.dumps(published, sort_keys=True)
        self.pipe: Any = None
        self.hooks: Any = None
        self._sha: str | None = None
        self._nfe: float | None = None

    @staticmethod
    def _named(variant: str | None) -> DiffusersConfig:
        if variant is None:
            raise ValueError("method 'diffusers' needs a pipeline: --model DIR (a local diffusers pipeline folder) "
                             "or --method-file FILE")
        if variant in (published := _published()):
            return DiffusersConfig(**published[variant])
        if (f := _find_method_file(variant)) is not None:
            return DiffusersConfig.from_file(f)
        raise ValueError(f"no diffusers method file named {variant!r}: give --model DIR or --method-file FILE, or "
                         f"put {variant}.toml in a folder listed in ${METHOD_FILES_ENV}")

    # -- the pipeline class, checked before any weight is read ------------------------------------
    def pipeline_class(self) -> Any:
        try:
            import diffusers
        except ModuleNotFoundError:
            raise ValueError(f"method 'diffusers' needs the diffusers extra: {EXTRA_HINT}") from None
        name = self.config.pipeline_class or self.index["_class_name"]
        cls = getattr(diffusers, name, None)
        if cls is None:
            raise ValueError(f"pipeline class {name!r} of {self.config.model} is not in diffusers "
                             f"{diffusers.__version__}; upgrade diffusers or set pipeline_class in a method file")
        params = inspect.signature(cls.__call__).parameters
        required = [n for n in OTHER_INPUTS if n in params and params[n].default is inspect.Parameter.empty]
        if any(n not in params for n in NEEDS_PARAMS) or required:
            why = (f"it needs {', '.join(required)}" if required else
                   f"its __call__ takes no {', '.join(n for n in NEEDS_PARAMS if n not in params)}")
            raise ValueError(f"{name} at {self.config.model} is not a text-to-video pipeline ({why}); "
                             "the diffusers method runs text-to-video pipelines")
        return cls

    def call_defaults(self) -> dict[str, Any]:
        params = inspect.signature(self.pipeline_class().__call__).parameters
        return {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}

    def generation_spec(self) -> GenerationSpec:
        from vbench_lite.spec import GenerationSpec

        defaults = self.call_defaults()
        c = self.config
        h, w = (c.height, c.width) if c.height and c.width else default_size(c.model, self.index, defaults)
        frames = c.frames or defaults.get("num_frames")
        if not isinstance(frames, int):
            raise ValueError(f"cannot tell how many frames {self.index['_class_name']} makes; give frames in a method file")
        return GenerationSpec(frames=frames, resolution=min(h, w), fps=c.fps, size=(c.height or h, c.width or w))

    # -- the contract ----------------------------------------------------------------------------
    def load(self, device: str = "cpu") -> None:
        import torch

        from vbench_lite.methods.diffusers.hooks import StageHooks

        cls = self.pipeline_class()
        dtype = getattr(torch, self.config.dtype)
        try:
            with warnings.catch_warnings():  # newer diffusers call it dtype; torch_dtype works in every version
                warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
                pipe = cls.from_pretrained(self.config.model, local_files_only=True, torch_dtype=dtype)
        except (OSError, ValueError, TypeError) as exc:  # a missing or broken component file
            line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"cannot load the diffusers pipeline at {self.config.model}: {line}") from None
        pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe.to(device)
        self.device = device
        if self.hooks is not None:
            self.hooks.remove()
        self.hooks = StageHooks(self.pipe)
        if not self.hooks.denoisers:
            raise ValueError(f"{cls.__name__} at {self.config.model} has no unet or transformer component")
        self._sha = folder_sha256(Path(self.config.model))
        self._nfe = self._stored_nfe()

    def _loaded(self) -> Any:
        if self.pipe is None:
            raise RuntimeError(f"method {self.full_name!r} is not loaded: call load(device) first")
        return self.pipe

    def _call_kwargs(self, prompts: list[str], seeds: list[int], spec: GenerationSpec) -> dict[str, Any]:
        import torch

        params = inspect.signature(self.pipe.__call__).parameters
        c = self.config
        kwargs: dict[str, Any] = {
            "prompt": prompts, "num_frames": spec.frames, "height": spec.height, "width": spec.width,
            "generator": [torch.Generator("cpu").manual_seed(int(s)) for s in seeds], "output_type": "pt",
        }
        if c.steps is not None:
            kwargs["num_inference_steps"] = c.steps
        if c.guidance_scale is not None:
            kwargs["guidance_scale"] = c.guidance_scale
        if c.negative_prompt is not None:
            kwargs["negative_prompt"] = [c.negative_prompt] * len(prompts)
        kwargs |= c.call_kwargs
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        unknown = [k for k in kwargs if k not in params and k != "output_type"]
        if unknown and not takes_any:
            raise ValueError(f"{type(self.pipe).__name__} takes no {', '.join(unknown)}; fix the method file")
        return kwargs

    def generate(self, prompts: list[str], seeds: list[int], spec: GenerationSpec) -> torch.Tensor:
        import torch

        pipe = self._loaded()
        if not prompts or len(prompts) != len(seeds):
            raise ValueError(f"prompts and seeds must be non-empty and of one length, got {len(prompts)} and {len(seeds)}")
        mb = self.config.micro_batch
        out = []
        for start in range(0, len(prompts), mb):
            p, s = list(prompts[start : start + mb]), [int(x) for x in seeds[start : start + mb]]
            n = len(p)
            p, s = p + [p[-1]] * (mb - n), s + [s[-1]] * (mb - n)  # a fixed call size: batch-independent videos
            self.hooks.counter.reset()
            frames = pipe(**self._call_kwargs(p, s, spec)).frames
            self._record_nfe(self.hooks.counter.rows / mb)
            out.append(to_uint8_video(frames, spec)[:n])
        return torch.cat(out).cpu()

    def _nfe_path(self) -> Path:
        from vbench_lite.fsutil import cache_dir
        from vbench_lite.spec import canonical_json, sha256_text

        ident = {"weights_sha256": self._sha, "config": {**self.config.to_dict(), "model": None}}
        return cache_dir("diffusers_nfe") / f"{sha256_text(canonical_json(ident))}.json"

    def _stored_nfe(self) -> float | None:
        from vbench_lite.fsutil import read_cache_json

        data = read_cache_json(self._nfe_path())
        return data.get("nfe") if data else None

    def _record_nfe(self, nfe: float) -> None:
        from vbench_lite.fsutil import write_cache_json

        nfe = int(nfe) if float(nfe).is_integer() else nfe
        if self._nfe is not None and self._nfe != nfe:
            logger.warning("%s: %s denoiser evaluations per video, earlier %s", self.full_name, nfe, self._nfe)
        if self._nfe != nfe:
            self._nfe = nfe
            write_cache_json(self._nfe_path(), {"nfe": nfe})

    def describe(self) -> dict[str, Any]:
        from vbench_lite.spec import canonical_json, sha256_text

        pipe = self._loaded()
        parts = {n: sum(p.numel() for p in m.parameters()) for n, m in pipe.components.items()
                 if hasattr(m, "parameters") and callable(m.parameters)}
        c = self.config
        defaults = self.call_defaults()
        return {
            "method": self.full_name,
            "pipeline_class": type(pipe).__name__,
            "model": c.model,
            "params": sum(parts.values()),
            "params_breakdown": parts,
            "steps": c.steps if c.steps is not None else defaults.get("num_inference_steps"),
            "cfg_scale": c.guidance_scale if c.guidance_scale is not None else defaults.get("guidance_scale"),
            "nfe": self._nfe,  # counted from the denoiser's calls (None until a video was generated)
            "nfe_source": "counted: denoiser rows per video" if self._nfe is not None else "not yet counted",
            "scheduler": type(pipe.scheduler).__name__ if getattr(pipe, "scheduler", None) is not None else None,
            "frames": self.generation_spec().frames,
            "size": list(self.generation_spec().size or ()),
            "dtype": c.dtype,
            "micro_batch": c.micro_batch,
            "weights_sha256": self._sha,
            # everything else the videos depend on (the harness keys its video cache by it)
            "settings_sha256": sha256_text(canonical_json({**c.to_dict(), "model": None, "name": None})),
            "config": c.to_dict(),
        }

    def denoiser(self) -> tuple[Any, tuple[Any, ...]] | None:
        """The denoiser and the arguments of its first call in this process (one probe video first
        when none was generated yet)."""
        self._loaded()
        if self.hooks.counter.example is None:
            import torch

            with torch.inference_mode():
                self.generate(["a probe video"], [0], self.generation_spec())
        name, inputs = self.hooks.counter.example
        return getattr(self.pipe, name), inputs


def to_uint8_video(frames: Any, spec: GenerationSpec) -> torch.Tensor:
    """A pipeline's ``frames`` output (tensor or array, floats in [0, 1] or uint8; layout BTCHW,
    BCTHW or BTHWC) as uint8 ``[B, T, 3, H, W]``."""
    import numpy as np
    import torch

    if isinstance(frames, (list, tuple)) and frames and isinstance(frames[0], np.ndarray):
        frames = np.stack(frames)
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(frames)
    if not isinstance(frames, torch.Tensor) or frames.dim() != 5:
        got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise ValueError(f"the pipeline returned frames {got}; expected a 5-d video batch (output_type='pt')")
    t, h, w = spec.frames, spec.height, spec.width
    if tuple(frames.shape[1:]) == (t, 3, h, w):
        video = frames
    elif tuple(frames.shape[1:]) == (3, t, h, w):
        video = frames.permute(0, 2, 1, 3, 4)
    elif tuple(frames.shape[1:]) == (t, h, w, 3):
        video = frames.permute(0, 1, 4, 2, 3)
    else:
        raise ValueError(f"the pipeline returned frames of shape {tuple(frames.shape)}; expected {t} frames of "
                         f"3x{h}x{w}")
    if video.dtype != torch.uint8:
        video = (video.float().clamp(0, 1) * 255).round().to(torch.uint8)
    return video.contiguous()

