"""SnapGen-V step 1: the temporal-layer search under a latency budget (Wu et al., arXiv
2412.10494, Sec. 3.2), ``python -m vbench_lite.methods.snapgen_v.search``.

1. A lookup table of every block type at every place (:class:`~vbench_lite.methods.backbone.latency_table.LatencyTable`,
   measured with the profiler on this machine, cached) gives each candidate's denoiser latency and
   peak memory; the budget is :data:`LATENCY_BUDGET` of the baseline's estimate from the same table,
   for one call on the same rows (16 videos, no CFG pair on either side: the budget judges the
   architecture, the step count is step 3's business). Candidates over it are never trained.
2. An evolutionary search (:func:`~vbench_lite.methods.backbone.evolution.evolutionary_search`)
   over :mod:`.space` scores at most :data:`MAX_CANDIDATES` candidates. Each is the baseline with
   its spatial layers frozen and the candidate's temporal layers (inherited where the type matches,
   identity-initialised otherwise) proxy-trained for :data:`PROXY_STEPS` flow-matching steps, then
   scored by KVD on :data:`SCORE_VIDEOS` ``validation`` videos (lower is better).
3. The proxy is checked on three candidates (the proxy's best, middle and worst): trained
   :data:`CHECK_FACTOR` x longer, do they rank the same?
4. The chosen architecture's whole denoiser call is timed against the baseline's, interleaved
   (the table's estimate is a sum of parts timed alone).

Everything resumes: proxy runs are cached by candidate, steps and seed; the trace is rewritten
after every proposal; the result goes to ``search/search.json`` beside this module.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, ClassVar

from vbench_lite.methods.backbone.adapter import BackboneMethod
from vbench_lite.methods.backbone.evolution import candidate_key, evolutionary_search
from vbench_lite.methods.backbone.recipe import RECIPE
from vbench_lite.methods.backbone.sampler import FlowSampler
from vbench_lite.methods.snapgen_v.space import (
    candidate_config,
    genes_of,
    inherit,
    is_temporal_parameter,
    search_space,
)

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SEARCH_DIR = HERE / "search"
FORMAT = "vbench_lite.snapgen_v.search/1"
TEACHER = "baseline"
LATENCY_BUDGET = 0.60  # candidate denoiser latency / baseline's (the budget)
MAX_CANDIDATES = 12
POPULATION = 4
PROXY_STEPS = 100
CHECK_FACTOR = 3
SCORE_VIDEOS = 128
SCORE_METRIC = "kvd"
# The proxy trains only the temporal layers (the spatial layers stay frozen, as in the paper).
PROXY_RECIPE = replace(RECIPE, lr=1e-3, warmup_steps=10)
# Candidates are scored as flow models with a cheaper sampler than the baseline's 30 CFG steps.
PROXY_SAMPLER = FlowSampler.uniform(10, cfg_scale=4.0)


class SearchCandidate(BackboneMethod):
    """A proxy-trained candidate checkpoint as a method (for ``evaluate_method``)."""

    name: ClassVar[str] = "snapgen-v-candidate"
    version: ClassVar[str] = "1"
    train_command: ClassVar[str] = "python -m vbench_lite.methods.snapgen_v.search"


def load_teacher(device: str = "cpu") -> tuple[Any, str]:
    """The baseline ``VideoDiffusion`` and its weights' SHA-256, through the method registry."""
    import vbench_lite

    adapter = vbench_lite.load_method(TEACHER)
    adapter.load(device)
    return adapter.generator.model, adapter.describe()["weights_sha256"]


class ProxyTrainer:
    """Proxy training and scoring of candidates (cached by candidate, steps, seed and teacher)."""

    def __init__(self, teacher: Any, teacher_sha: str, seed: int = 0, videos: int = SCORE_VIDEOS,
                 device: str = "cpu") -> None:
        from vbench_lite.fsutil import cache_dir
        from vbench_lite.methods.backbone.autoencoder import load_autoencoder
        from vbench_lite.methods.backbone.latents import encoded_clips
        from vbench_lite.methods.backbone.recipe import FRAMES, NUM_CLIPS, RESOLUTION

        self.teacher, self.teacher_sha, self.seed, self.videos, self.device = teacher, teacher_sha, seed, videos, device
        ae, self.ae_sha = load_autoencoder()
        self.clips = encoded_clips(ae, self.ae_sha, NUM_CLIPS, resolution=RESOLUTION, frames=FRAMES)
        self.root = cache_dir("runs", "snapgen-v-search")

    def key(self, genes: dict[str, str], steps: int) -> str:
        ident = [candidate_key(genes), steps, self.seed, self.teacher_sha, asdict(PROXY_RECIPE),
                 PROXY_SAMPLER.to_config()]
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]

    def train(self, genes: dict[str, str], steps: int) -> Path:
        """The candidate proxy-trained for ``steps`` (resuming; cached), exported as a checkpoint."""
        import torch

        from vbench_lite.methods.backbone.flow_task import FlowMatchingTask
        from vbench_lite.methods.backbone.model import VideoDiffusion, save_model
        from vbench_lite.methods.backbone.recipe import export_checkpoint
        from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer

        folder = self.root / self.key(genes, steps)
        out = folder / "weights"
        if (out / "manifest.json").is_file():
            return out
        torch.manual_seed(self.seed)
        cfg = candidate_config(self.teacher.unet.config, genes)
        model = VideoDiffusion.from_config({**self.teacher.config_dict(), "unet": cfg.to_dict()})
        inherit(model, self.teacher)
        trainable = 0
        for name, p in model.named_parameters():
            p.requires_grad_(is_temporal_parameter(name))
            trainable += p.numel() if p.requires_grad else 0
        extra = {"generation": {"frames": 16, "resolution": 32},
                 "snapgen_v_search": {"genes": genes, "proxy_steps": steps, "trainable_params": trainable}}
        if trainable == 0:  # no temporal layer at all: nothing to train, score it as inherited
            save_model(out, model, {"autoencoder_sha256": self.ae_sha, "sampler": PROXY_SAMPLER.to_config(), **extra},
                       half=False)
            return out
        task = FlowMatchingTask(model, self.clips, PROXY_RECIPE)
        last = Trainer(task, TrainConfig(steps=steps, seed=self.seed, log_every=10, checkpoint_every=50),
                       folder / "run").run()
        export_checkpoint(last, out, seed=self.seed, requested_steps=steps, title="snapgen-v search candidate",
                          command="python -m vbench_lite.methods.snapgen_v.search", sampler=PROXY_SAMPLER,
                          model_key="model", extra_config=extra)
        return out

    def score(self, genes: dict[str, str], steps: int) -> dict[str, Any]:
        """Proxy-train (cached) then score on the ``validation`` split: KVD (and FVD beside it)."""
        import vbench_lite

        weights = self.train(genes, steps)
        res = vbench_lite.evaluate_method(SearchCandidate(weights=weights), split="validation",
                                          num_videos=self.videos, metrics=("fvd", "kvd"), device=self.device)
        m = res.metrics
        return {"kvd": m["kvd"].value, "kvd_std": m["kvd"].std, "fvd": m["fvd"].value, "fvd_std": m["fvd"].std,
                "steps": steps, "weights": str(weights)}


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's tau-a of two score lists (1: same order)."""
    pairs = [(i, j) for i in range(len(a)) for j in range(i + 1, len(a))]
    s = sum((1 if (a[i] - a[j]) * (b[i] - b[j]) > 0 else -1) for i, j in pairs)
    return s / len(pairs)


def run_search(out_dir: str | Path = SEARCH_DIR, seed: int = 0, device: str = "cpu",
               max_candidates: int = MAX_CANDIDATES, proxy_steps: int = PROXY_STEPS,
               videos: int = SCORE_VIDEOS, check: bool = True) -> dict[str, Any]:
    """Steps 1-4 of the module docstring; writes ``search.json``, ``latency_table.json`` to ``out_dir``."""
    import torch

    from vbench_lite.fsutil import atomic_write_json
    from vbench_lite.methods.backbone.latency_table import LatencyTable

    if proxy_steps > PROXY_STEPS:
        raise ValueError(f"the proxy training is at most {PROXY_STEPS} steps, got {proxy_steps}")
    if max_candidates > MAX_CANDIDATES:
        raise ValueError(f"the search trains at most {MAX_CANDIDATES} candidates, got {max_candidates}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    teacher, teacher_sha = load_teacher(device)
    base = teacher.unet.config
    table = LatencyTable(device=device, threads=torch.get_num_threads())
    base_est = table.estimate(base)
    budget_s = LATENCY_BUDGET * base_est["latency_s"]
    proxy = ProxyTrainer(teacher, teacher_sha, seed=seed, videos=videos, device=device)
    scores: dict[str, dict[str, Any]] = {}
    doc: dict[str, Any] = {
        "format": FORMAT, "teacher": TEACHER, "teacher_sha256": teacher_sha, "seed": seed,
        "budget": {"latency_ratio": LATENCY_BUDGET, "baseline_latency_s": base_est["latency_s"], "latency_s": budget_s,
                   "call": asdict(table.shape), "machine": table.machine},
        "proxy": {"steps": proxy_steps, "recipe": asdict(PROXY_RECIPE), "trainable": "temporal layers only",
                  "sampler": PROXY_SAMPLER.to_config(), "metric": SCORE_METRIC, "split": "validation",
                  "videos": videos},
        "space": {g: list(c) for g, c in search_space(base).items()},
        "baseline_genes": genes_of(base), "trace": [],
    }

    def constraint(genes: dict[str, str]) -> tuple[bool, dict[str, Any]]:
        est = table.estimate(candidate_config(base, genes))
        info = {"latency_s": est["latency_s"], "latency_ratio": est["latency_s"] / base_est["latency_s"],
                "peak_bytes": est["peak_bytes"]}
        return est["latency_s"] <= budget_s, info

    def evaluate(genes: dict[str, str]) -> float:
        r = proxy.score(genes, proxy_steps)
        scores[candidate_key(genes)] = r
        return float(r[SCORE_METRIC])

    def on_record(rec: dict[str, Any]) -> None:
        if rec["status"] == "scored":
            rec["proxy"] = scores[candidate_key(rec["candidate"])]
        doc["trace"].append(rec)
        atomic_write_json(out_dir / "search.json", doc)

    result = evolutionary_search(search_space(base), evaluate, constraint, max_evaluations=max_candidates,
                                 population=POPULATION, seed=seed, on_record=on_record)
    best = result.best
    doc["chosen"] = {"index": best["index"], "genes": best["candidate"], "score": best["score"],
                     "unet": candidate_config(base, best["candidate"]).to_dict(), "estimate": best["constraint"]}
    atomic_write_json(out_dir / "search.json", doc)
    if check:
        doc["rank_check"] = rank_check(proxy, result.scored, proxy_steps)
        atomic_write_json(out_dir / "search.json", doc)
    whole = table.measure_whole([base, candidate_config(base, best["candidate"])], rounds=9)
    doc["chosen"]["whole_call"] = {"baseline_s": whole[0], "chosen_s": whole[1], "ratio": whole[1] / whole[0],
                                   "rounds": 9, "note": "whole denoiser calls timed round-robin in one process"}
    atomic_write_json(out_dir / "search.json", doc)
    atomic_write_json(out_dir / "latency_table.json", table.to_json())
    return doc


def rank_check(proxy: ProxyTrainer, scored: list[dict[str, Any]], steps: int) -> dict[str, Any]:
    """The proxy's best, middle and worst candidates trained ``CHECK_FACTOR`` x longer: same order?"""
    ranked = sorted(scored, key=lambda r: r["score"])
    picks = [ranked[0], ranked[len(ranked) // 2], ranked[-1]] if len(ranked) >= 3 else ranked
    rows = []
    for r in picks:
        long = proxy.score(r["candidate"], CHECK_FACTOR * steps)
        rows.append({"index": r["index"], "proxy": r["score"], "long": long[SCORE_METRIC], "long_run": long})
    proxy_scores, long_scores = [r["proxy"] for r in rows], [r["long"] for r in rows]
    tau = kendall_tau(proxy_scores, long_scores) if len(rows) > 1 else float("nan")
    return {"steps": CHECK_FACTOR * steps, "rows": rows, "kendall_tau": tau,
            "same_order": tau == 1.0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vbench_lite.methods.snapgen_v.search", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(SEARCH_DIR))
    p.add_argument("--videos", type=int, default=SCORE_VIDEOS)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    doc = run_search(args.out, seed=args.seed, device=args.device, videos=args.videos)
    print(json.dumps({"chosen": doc["chosen"], "rank_check": doc.get("rank_check")}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
