"""The cost profile of one method: the one entry point the run pipeline and the CLI call.

``profile_method`` measures, for a loaded adapter:
- FLOPs per generated video: everything that runs inside ``generate()`` at the generation batch
  size, divided by it (``flops.total``, ``flops.by_stage``), the number of denoiser calls and the
  FLOPs of one call at that batch (``flops.per_denoiser_call``), and fvcore's per-module breakdown
  of the adapter's example denoiser call (``denoiser_call``);
- parameters, total and those that take part in inference;
- latency at the generation batch size B (throughput view, ``latency[0]``, ``latency_at(B)``) and at
  batch 1 (interactive view, ``latency_at(1)``), with per-stage times; given a ``reference``
  adapter, the batch-B runs are paired with the
  reference's, interleaved in this process on the same prompts and seeds
  (:mod:`vbench_lite.profile.paired`), and ``speedup`` holds the ratio of medians with its
  bootstrap interval, wall and CPU time, threads, load and stability;
- peak memory of one single-video generation (CUDA allocator on GPU, a fresh subprocess on CPU);
- hardware utilisation of the denoiser: FLOPs of the ``denoise`` stage at the generation batch
  size over its median time, as a fraction of the measured matmul peak.

The FLOP-counting run comes first and is untimed, so it also warms the method up.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from vbench_lite.cost import CostProfile, FlopCount, ParamCount
from vbench_lite.env import capture_env
from vbench_lite.method import MethodAdapter
from vbench_lite.profile.breakdown import denoiser_breakdown
from vbench_lite.profile.flops import UNIT, count_flops
from vbench_lite.profile.hardware import matmul_peak, utilisation
from vbench_lite.profile.latency import check_device, fixed_threads, measure_latency
from vbench_lite.profile.memory import cpu_peak_rss, gpu_peak_memory
from vbench_lite.profile.paired import measure_paired
from vbench_lite.profile.params import count_parameters
from vbench_lite.spec import GenerationSpec, ProfileOptions

logger = logging.getLogger(__name__)

# Bump when a change to the profiler can change what it records: cached profiles are keyed by it.
PROFILER_VERSION = "2"


class MethodError(ValueError):
    """A method's ``generate()`` raised, or returned the wrong shape, dtype or NaN."""


def check_videos(method: str, videos: Any, batch: int, spec: GenerationSpec) -> None:
    """Raise :class:`MethodError` naming ``method`` unless ``videos`` is uint8 ``[B, T, 3, H, W]``."""
    expected = (batch, spec.frames, 3, spec.height, spec.width)
    if not isinstance(videos, torch.Tensor):
        raise MethodError(f"method {method!r}: generate() returned {type(videos).__name__}, not a tensor {expected}")
    if videos.is_floating_point() and torch.isnan(videos).any():
        raise MethodError(f"method {method!r}: generate() returned NaN values")
    if tuple(videos.shape) != expected:
        raise MethodError(f"method {method!r}: generate() returned shape {tuple(videos.shape)}, expected {expected} [B, T, C, H, W]")
    if videos.dtype != torch.uint8:
        raise MethodError(f"method {method!r}: generate() returned dtype {videos.dtype}, expected torch.uint8")


def generation_call(adapter: MethodAdapter, spec: GenerationSpec, prompts: Sequence[str], seeds: Sequence[int],
               batch: int) -> Callable[[], torch.Tensor]:
    """A zero-argument call generating ``batch`` videos (prompts cycled); output checked on the first call."""
    if not prompts or len(prompts) != len(seeds):
        raise ValueError(f"profiling needs prompts and seeds of one non-zero length, got {len(prompts)} and {len(seeds)}")
    p = [prompts[i % len(prompts)] for i in range(batch)]
    s = [int(seeds[i % len(seeds)]) for i in range(batch)]
    checked = False

    def run() -> torch.Tensor:
        nonlocal checked
        try:
            videos = adapter.generate(p, s, spec)
        except MethodError:
            raise
        except Exception as exc:
            raise MethodError(f"method {adapter.full_name!r}: generate() raised {type(exc).__name__}: {exc}") from exc
        if not checked:
            check_videos(adapter.full_name, videos, batch, spec)
            checked = True
        return videos

    return run


def _param_dtype(module: torch.nn.Module | None) -> torch.dtype:
    params = list(module.parameters()) if module is not None else []
    return params[0].dtype if params and params[0].is_floating_point() else torch.float32


def profile_method(
    adapter: MethodAdapter,
    gen_spec: GenerationSpec,
    options: ProfileOptions,
    prompts: Sequence[str],
    seeds: Sequence[int],
    *,
    device: str = "cpu",
    memory: bool = True,
    breakdown: bool = True,
    reference: MethodAdapter | None = None,
    progress: bool = False,
) -> CostProfile | None:
    """Profile a loaded adapter (``None`` when ``options.enabled`` is false).

    ``memory=False`` skips the peak-memory measurement (on CPU it needs the method to be
    registered, since a fresh process loads it by name); ``breakdown=False`` skips fvcore.
    ``reference`` (a loaded adapter, e.g. the baseline) pairs the batch-B latency runs with its
    own for the ``speedup`` entry; ``progress`` shows a bar over the profile's steps.
    """
    device = check_device(device)
    if not options.enabled:
        return None
    name = adapter.full_name
    t_start = time.perf_counter()
    paired = None
    lat_steps = 0
    if options.latency:
        per_measurement = options.warmup + options.repeats
        lat_steps = 2 * per_measurement + (per_measurement + 1 if reference is not None else 0)
    steps = 1 + int(breakdown) + lat_steps + int(memory)
    bar = tqdm(total=steps, desc=f"profile {name}", unit="step", disable=not progress)
    with bar, fixed_threads(options.threads) as threads:
        den = adapter.denoiser()
        den_module = den[0] if den is not None else None

        batch = options.batch_size
        many = generation_call(adapter, gen_spec, prompts, seeds, batch)
        one = generation_call(adapter, gen_spec, prompts, seeds, 1)
        # Counted at the generation batch size and divided by it: a method that pads a request to
        # a fixed micro-batch, or shares work across a batch, is charged what a video really costs
        # in the throughput setting. This first run also warms the method up for the timings.
        bar.set_postfix_str("FLOPs")
        flops = count_flops(many, denoiser=den_module)
        per_video = flops.scaled(batch)
        logger.info("%s: %.4g %s per video", name, per_video.total, UNIT)
        bar.update()

        per_call = None
        if den is not None and breakdown:
            bar.set_postfix_str("fvcore breakdown")
            per_call = _breakdown(name, den)
        if breakdown:
            bar.update()

        ref_spec = gen_spec
        if options.latency:
            if reference is not None:
                bar.set_postfix_str(f"latency pairs vs {reference.full_name} @ batch {batch}")
                ref_spec = reference_generation(reference, gen_spec)
                ref_many = generation_call(reference, ref_spec, prompts, seeds, batch)
                ref_many()  # the reference's first call checks its output and warms it up
                bar.update()
                paired = measure_paired(
                    many, ref_many, names=(name, reference.full_name), pairs=options.repeats,
                    warmup=options.warmup, device=device, per=batch, on_run=bar.update,
                )
                lat_batch = paired.method.report(warmup=options.warmup, threads=paired.threads,
                                                 device=device, timer=paired.timer)
            else:
                bar.set_postfix_str(f"latency @ batch {batch}")
                lat_batch = measure_latency(many, warmup=options.warmup, repeats=options.repeats, device=device,
                                            on_run=bar.update)
            bar.set_postfix_str("latency @ batch 1")
            lat_one = measure_latency(one, warmup=options.warmup, repeats=options.repeats, device=device,
                                      on_run=bar.update)

        if not memory:
            mem: dict[str, Any] | None = None
        else:
            bar.set_postfix_str("peak memory")
            if device.startswith("cuda"):
                mem = gpu_peak_memory(one, device)
            else:
                mem = cpu_peak_rss(name, gen_spec, prompts[:1], seeds[:1], threads=threads)
            bar.update()

        params = count_parameters(adapter, flops.touched_storages)
        util = (
            _utilisation(flops.by_stage.get("denoise", 0), lat_batch, device, _param_dtype(den_module))
            if options.latency else None
        )

    return CostProfile(
        method=name,
        device=device,
        threads=threads,
        generation=gen_spec.to_dict(),
        flops=FlopCount(
            total=per_video.total,
            by_stage=dict(per_video.by_stage),
            by_operator=dict(per_video.by_operator),
            by_module=dict(per_video.by_module),
            denoiser_calls=len(per_video.denoiser_calls),
            per_denoiser_call=flops.per_denoiser_call,  # one call at the generation batch size
            denoiser_call_flops=tuple(flops.denoiser_calls),
            denoiser_total=per_video.denoiser_total,
            batch=batch,
            batch_total=flops.total,
            unit=UNIT,
        ),
        params=ParamCount.from_dict(params),
        # the throughput view first, then the interactive one; empty: not measured (latency=False)
        latency=(lat_batch.stat(per=batch), lat_one.stat(per=1)) if options.latency else (),
        # the paired speedup against the reference (None: no reference given, or no latency)
        speedup=_speedup_record(paired, reference, gen_spec, ref_spec) if paired is not None else None,
        memory=mem,
        utilisation=util,
        denoiser_call=per_call,
        profile_wall_s=time.perf_counter() - t_start,
        env=capture_env(device),
    )


def reference_generation(reference: MethodAdapter, gen_spec: GenerationSpec) -> GenerationSpec:
    """What the reference generates in the paired timing: the method's size, unless the reference
    has one fixed size of its own that differs (a 24 px SNED subnet is timed against the baseline
    making the same prompts' videos at its 32 px: the speedup of a video, not of a resolution)."""
    native = reference.generation_spec()
    if native is None:
        res = reference.describe().get("resolution")
        if not isinstance(res, int) or res == gen_spec.resolution:
            return gen_spec
        native = dataclasses.replace(gen_spec, resolution=res)
    return native


def _speedup_record(paired: Any, reference: MethodAdapter, gen_spec: GenerationSpec,
                    ref_spec: GenerationSpec) -> dict[str, Any]:
    """The paired measurement with what identifies the reference it was measured against."""
    info = reference.describe()
    record = {
        **paired.to_dict(),
        "batch": paired.per,
        "reference_weights_sha256": info.get("weights_sha256"),
        "reference_version": reference.version,
    }
    if ref_spec != gen_spec:  # recorded only when the reference ran at another size
        record["reference_generation"] = dataclasses.asdict(ref_spec)
    return record


def _utilisation(denoise_flops: int, lat: Any, device: str, dtype: torch.dtype) -> dict[str, Any] | None:
    """The denoise stage's achieved FLOP/s at the generation batch size over the matmul peak."""
    seconds = lat.stage_median_s.get("denoise")
    if not denoise_flops or not seconds:
        logger.warning("no FLOPs or time inside stage('denoise'): utilisation not measured")
        return None
    peak = matmul_peak(device, dtype)
    achieved = denoise_flops / seconds
    return {
        "fraction": utilisation(denoise_flops, seconds, peak["flops_per_s"]),
        "achieved_flops_per_s": achieved,
        "peak_flops_per_s": peak["flops_per_s"],
        "unit": "FLOP/s",
        "peak": peak,
    }


def _breakdown(name: str, den: tuple[Any, tuple[Any, ...]]) -> dict[str, Any]:
    """fvcore's breakdown of the adapter's example call; a failure to trace is recorded, not fatal."""
    module, inputs = den
    params = list(module.parameters())
    if params:  # example inputs may be built on the CPU while the module sits on a GPU
        inputs = tuple(x.to(params[0].device) if isinstance(x, torch.Tensor) else x for x in inputs)
    shapes = [list(x.shape) if isinstance(x, torch.Tensor) else repr(x) for x in inputs]
    try:
        return {"inputs": shapes, **denoiser_breakdown(module, inputs).to_dict()}
    except Exception as exc:  # torch.jit.trace rejects some modules (data-dependent control flow, ...)
        logger.warning("%s: fvcore breakdown of one denoiser call failed: %s", name, exc)
        return {"inputs": shapes, "error": f"{type(exc).__name__}: {exc}"}


def compare_methods(
    adapter: MethodAdapter,
    reference: MethodAdapter,
    gen_spec: GenerationSpec,
    prompts: Sequence[str],
    seeds: Sequence[int],
    *,
    pairs: int = 5,
    warmup: int = 1,
    device: str = "cpu",
    threads: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The paired latency of two loaded adapters on one batch of ``len(prompts)`` videos: each
    generates the same prompts and seeds, interleaved in this process (``vbench-lite compare``).

    A JSON-ready dict: the speedup of ``adapter`` over ``reference`` with its interval, every run's
    wall and CPU time, threads, load and stability, and the environment.
    """
    device = check_device(device)
    batch = len(prompts)
    many = generation_call(adapter, gen_spec, prompts, seeds, batch)
    ref_many = generation_call(reference, gen_spec, prompts, seeds, batch)
    total = 2 * (warmup + pairs) + 2
    with tqdm(total=total, desc=f"compare {adapter.full_name} vs {reference.full_name}", unit="call",
              disable=not progress) as bar, fixed_threads(threads):
        for call in (many, ref_many):  # check both outputs once (not timed, not counted as warm-up)
            call()
            bar.update()
        paired = measure_paired(
            many, ref_many, names=(adapter.full_name, reference.full_name), pairs=pairs, warmup=warmup,
            device=device, per=batch, on_run=bar.update,
        )
    info = adapter.describe()
    return {
        **_speedup_record(paired, reference, gen_spec, gen_spec),
        "method_weights_sha256": info.get("weights_sha256"),
        "method_version": adapter.version,
        "generation": gen_spec.to_dict(),
        "env": capture_env(device),
    }
