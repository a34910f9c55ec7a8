"""The run pipeline: resolve a method, generate a split's videos, score, profile, write results.

``run(spec)`` is what ``python -m vbench_lite run`` and :func:`vbench_lite.evaluate_method` call.
Generation and per-video scores are cached by content, so an interrupted run resumes and a
repeated run recomputes only the reductions.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vbench_lite.cost import CostProfile, ProfileSchemaError
from vbench_lite.env import capture_env
from vbench_lite.fsutil import cache_dir, read_cache_json, write_cache_json
from vbench_lite.method import MethodAdapter
from vbench_lite.metrics.base import (
    REFERENCE_METHOD_NEED,
    Metric,
    MetricConfig,
    MetricContext,
    UnsupportedInput,
)
from vbench_lite.pipeline.distributed import Dist
from vbench_lite.pipeline.generation import generate_videos, method_key, video_sha256
from vbench_lite.pipeline.scoring import score
from vbench_lite.registries import METHODS, METRICS
from vbench_lite.registry import split_name
from vbench_lite.results import RunResult, SampleRow, write_samples
from vbench_lite.run_folder import RunFolder
from vbench_lite.spec import RunSpec, canonical_json, sha256_text
from vbench_lite.suites import build_suite
from vbench_lite.suites.base import Suite, VideoItem
from vbench_lite.video import write_video

logger = logging.getLogger(__name__)

@dataclass
class RunOutput:
    result: RunResult
    samples: list[SampleRow]
    videos: dict[int, torch.Tensor]
    run_dir: Path | None = None


def resolve_metrics(
    names: tuple[str, ...] | list[str] | None, configs: dict[str, MetricConfig] | None = None
) -> list[Metric]:
    """Metric instances by name (all registered metrics when ``names`` is empty), each built with
    its settings from ``configs`` (its defaults when it has none there). Settings of a metric that
    is not registered are an error (did you mean ...); of one not chosen, ignored."""
    configs = dict(configs or {})
    for n in configs:
        METRICS.entry(n)
    chosen = list(names) if names else METRICS.names()
    return [METRICS.build(n, config=configs[n]) if n in configs else METRICS.build(n) for n in chosen]


def is_eligible(spec: RunSpec, suite: Suite) -> bool:
    """Only the full eval split is leaderboard material."""
    size = suite.split_size(spec.split)
    full = spec.num_videos is None or spec.num_videos == size
    return spec.split == "eval" and full and spec.seed_offset == 0


@dataclass
class LoadedMethod:
    """A loaded adapter and its ``describe()``, shared by everything in one run that needs it."""

    adapter: MethodAdapter
    info: dict[str, Any]

    @classmethod
    def load(cls, adapter: MethodAdapter, device: str) -> LoadedMethod:
        adapter.load(device)
        return cls(adapter, adapter.describe())


def reference_method(spec: RunSpec, run_method: LoadedMethod) -> LoadedMethod | None:
    """The spec's reference method, loaded once (the run's own adapter when they are the same)."""
    if spec.reference_method is None:
        return None
    if spec.reference_method == spec.method_id:
        return run_method
    name, variant = split_name(spec.reference_method)
    return LoadedMethod.load(METHODS.build(name, variant=variant), spec.device)


def reference_provider(spec: RunSpec, ref: LoadedMethod) -> Callable[[list[VideoItem]], torch.Tensor]:
    """The reference method's videos for the same prompts and seeds, through the same cached generation."""

    def provide(items: list[VideoItem]) -> torch.Tensor:
        if ref.info.get("resolution", spec.generation.resolution) != spec.generation.resolution:
            raise UnsupportedInput(
                f"fidelity to the reference method compares videos of one size: this method generates "
                f"{spec.generation.resolution} px, {ref.adapter.full_name} {ref.info['resolution']} px")
        vids = generate_videos(ref.adapter, items, spec.generation, batch_size=spec.batch_size,
                               info=ref.info, progress=False)
        return torch.stack([vids[it.index] for it in items])

    return provide


def run(
    spec: RunSpec,
    *,
    out: str | Path | None = None,
    adapter: MethodAdapter | None = None,
    use_cache: bool = True,
    progress: bool = True,
    write_videos: bool = True,
) -> RunOutput:
    """Run ``spec`` end to end; writes ``<out>/<suite>/<method>/<run_id>/`` when ``out`` is given."""
    dist = Dist.from_env(spec.device)
    suite: Suite = build_suite(spec.suite)
    items = suite.items(spec.split, spec.num_videos, spec.seed_offset)
    if adapter is None:
        adapter = METHODS.build(spec.method, variant=spec.variant)
    metrics = resolve_metrics(spec.metrics, dict(spec.metric_configs))
    skipped: dict[str, str] = {}
    if not spec.metrics and spec.reference_method is None:  # default metrics: those a run can score
        for m in [m for m in metrics if REFERENCE_METHOD_NEED in m.needs]:
            skipped[m.name] = "compares with a reference method and the run names none (--reference-method NAME)"
            metrics.remove(m)
    folder = None
    if out is not None and dist.is_main:  # an unusable --out fails before any work
        folder = RunFolder(out, suite.name, spec.method_id, spec.content_hash())
    run_dir = None

    try:
        # What the metrics compare against is loaded first: a reference statistics file of another
        # protocol, or a reference folder with a short clip, fails before any video is generated.
        early = MetricContext(suite=suite, device=spec.device, batch_size=spec.batch_size)
        for m in list(metrics):
            try:
                m.prepare(early)
            except UnsupportedInput as exc:
                if spec.metrics:
                    raise
                skipped[m.name] = str(exc).splitlines()[0]
                metrics.remove(m)
        this = LoadedMethod.load(adapter, spec.device)
        info = this.info
        videos = generate_videos(
            adapter, items, spec.generation, batch_size=spec.batch_size, info=info, dist=dist,
            use_cache=use_cache, progress=progress,
        )
        profiled = spec.profile.enabled and dist.is_main
        needs_reference = [m.name for m in metrics if REFERENCE_METHOD_NEED in m.needs]
        ref = None
        if needs_reference or (profiled and spec.profile.latency and spec.paired_reference is not None):
            if needs_reference and spec.reference_method is None:
                raise ValueError(f"metric(s) {', '.join(needs_reference)} compare with a reference method and the run "
                                 "names none; give --reference-method NAME or leave them out with --metrics")
            ref = reference_method(spec, this)  # loaded once, for fidelity and the paired latency
        ctx = MetricContext(
            suite=suite,
            device=spec.device,
            batch_size=spec.batch_size,
            reference_method_videos=reference_provider(spec, ref) if needs_reference and ref else None,
            reference_method=spec.reference_method,
            resolution=spec.generation.resolution,
        )
        # per-video fidelity scores depend on the reference's weights: key them by its identity
        salt = method_key(ref.adapter, ref.info, spec.generation) if needs_reference and ref else ""
        # Default metrics the inputs cannot support (FVD without real videos) are skipped with the
        # reason; a metric asked for by name is an error instead.
        results, scores = score(metrics, videos, items, ctx, dist=dist, salt=salt, use_cache=use_cache,
                                progress=progress, skipped=None if spec.metrics else skipped)

        profile = None
        if profiled:
            paired = ref if spec.profile.latency and spec.paired_reference is not None else None
            profile = cached_profile(adapter, spec, info, items, reference=paired, use_cache=use_cache,
                                     progress=progress)

        hashes = {i: video_sha256(v) for i, v in videos.items()}
        rows = [
            SampleRow(
                index=it.index, prompt=it.prompt, seed=it.seed, attributes=dict(it.attributes),
                scores=scores.get(it.index, {}),
                path=f"videos/{it.index:04d}.mp4" if folder is not None and write_videos else None,
                sha256=hashes[it.index],
            )
            for it in items
        ]
        all_hash = hashlib.sha256("".join(hashes[it.index] for it in items).encode()).hexdigest()
        result = RunResult(
            method=spec.method,
            variant=spec.variant,
            suite=suite.name,
            split=spec.split,
            num_videos=len(items),
            eligible=is_eligible(spec, suite),
            spec=spec.to_dict(),
            spec_hash=spec.content_hash(),
            method_info=adapter.describe(),  # after generation: counted quantities (NFE) included
            metrics=results,
            profile=profile,
            env=capture_env(spec.device) | {"world_size": dist.world},
            created=folder.created if folder is not None else "",
            videos_sha256=all_hash,
            skipped=skipped,
        )
        if folder is not None:
            if write_videos:
                for it in items:
                    write_video(folder.staging / "videos" / f"{it.index:04d}.mp4", videos[it.index],
                                fps=spec.generation.fps)
            write_samples(folder.staging, rows)
            result.run_id = folder.reserve()
            result.save(folder.staging)
            run_dir = folder.publish()  # a visible run folder is always complete
    except BaseException:  # Ctrl-C, SIGTERM or an error: only this run's staging goes (the caches keep the work)
        if folder is not None and run_dir is None:
            folder.discard()
        raise
    dist.barrier()
    return RunOutput(result=result, samples=rows, videos=videos, run_dir=run_dir)


def cached_profile(
    adapter: MethodAdapter, spec: RunSpec, info: dict[str, Any], items: list[VideoItem], *, use_cache: bool,
    reference: LoadedMethod | None = None, progress: bool = False,
) -> CostProfile | None:
    """The method's cost profile, cached by method identity (and its reference's), profile options
    and machine. With a loaded ``reference`` the batch latency is paired with it."""
    from vbench_lite.fingerprint import package_fingerprint as package_source
    from vbench_lite.profile import profile_method
    from vbench_lite.profile.method_profile import PROFILER_VERSION

    env = capture_env(spec.device)
    key = sha256_text(
        canonical_json(
            {
                "method": method_key(adapter, info, spec.generation),
                # the profiler: its declared version and its source (a change to how FLOPs are
                # counted recomputes every profile)
                "profiler": [PROFILER_VERSION, package_source("vbench_lite.profile")],
                "reference": method_key(reference.adapter, reference.info, spec.generation) if reference else None,
                "options": spec.profile,
                "cpu": env["cpu"],
                "gpu": env["gpu"],
                "threads": torch.get_num_threads() if spec.profile.threads is None else spec.profile.threads,
                "device": spec.device,
            }
        )
    )
    path = cache_dir("profiles") / f"{key}.json"
    if use_cache and (cached := read_cache_json(path)) is not None:
        try:
            return CostProfile.from_dict(cached)
        except ProfileSchemaError as exc:  # written by another version: recompute
            logger.warning("ignoring cached profile %s (%s); recomputing", path, exc)
    batch = items[: spec.profile.batch_size]
    profile = profile_method(
        adapter, spec.generation, spec.profile, [it.prompt for it in batch], [it.seed for it in batch],
        device=spec.device, reference=reference.adapter if reference else None, progress=progress,
    )
    # A paired latency flagged unstable (a busy machine, a wide interval) is returned but not cached:
    # the cache key cannot see the load, so re-running the row would otherwise serve the same flagged
    # numbers instead of timing again.
    if profile is not None and not (profile.speedup or {}).get("unstable"):
        write_cache_json(path, profile.to_dict())
    elif profile is not None:
        logger.info("paired latency flagged unstable: not caching the profile, so a re-run times again")
    return profile


def evaluate_method(
    method_or_name: str | MethodAdapter,
    *,
    split: str = "validation",
    num_videos: int | None = None,
    metrics: tuple[str, ...] | list[str] | None = None,
    suite: str = "shapes",
    device: str = "cpu",
    profile: bool = False,
    out: str | Path | None = None,
    metric_configs: dict[str, MetricConfig] | None = None,
    progress: bool = False,
) -> RunResult:
    """Evaluate a method (by name or an adapter instance) on a suite split; shares the run cache.

    Searches and benchmarks call this on the ``validation`` split instead of writing their own
    evaluation loops.
    """
    from vbench_lite.spec import ProfileOptions

    adapter = None
    if isinstance(method_or_name, MethodAdapter):
        adapter = method_or_name
        gen = adapter.generation_spec()  # a method that fixes its own frames and size (diffusers)
        spec = RunSpec(method=adapter.name, variant=adapter.variant, suite=suite, split=split,
                       num_videos=num_videos, metrics=tuple(metrics or ()), device=device,
                       **({"generation": gen, "reference_method": None} if gen is not None else {}),
                       profile=ProfileOptions(enabled=profile), metric_configs=dict(metric_configs or {}))
    else:
        spec = RunSpec.for_method(method_or_name, suite=suite, split=split, num_videos=num_videos,
                                  metrics=tuple(metrics or ()), device=device,
                                  profile=ProfileOptions(enabled=profile), metric_configs=dict(metric_configs or {}))
    return run(spec, out=out, adapter=adapter, progress=progress).result
