"""SnapGen-V: the lookup table comes from the profiler and is reused from the cache; the search never
trains a candidate over the budget; the 4-step sampler makes exactly 4 denoiser calls and no CFG
pass; in the adversarial fine-tuning only the generator and the discriminator heads train."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from vbench_lite.methods.backbone.tiny import randomize, tiny_autoencoder, tiny_model, tiny_unet_config
from vbench_lite.spec import GenerationSpec

PROMPTS = ["a red circle moving left slowly on a black background", "a blue square standing still on a gray background"]


# -- the lookup table --------------------------------------------------------------------------

def _counting_profiler(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import vbench_lite.profile.latency as latency

    calls: list[int] = []
    real = latency.measure_latency

    def counted(fn, **kw):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(fn, **kw)

    monkeypatch.setattr(latency, "measure_latency", counted)
    return calls


def test_lookup_table_entries_come_from_the_profiler_and_are_reused_from_the_cache(monkeypatch) -> None:
    from vbench_lite.methods.backbone.latency_table import CallShape, LatencyTable, block_signatures

    calls = _counting_profiler(monkeypatch)
    shape = CallShape(videos=1, frames=4, latent=4)
    cfg = tiny_unet_config()
    table = LatencyTable(shape=shape, warmup=0, repeats=2)
    est = table.estimate(cfg)
    parts = {s.key() for s in block_signatures(cfg, shape).values()}
    assert len(calls) == table.measured == len(parts) + 1  # every distinct part once, plus the rest
    for entry in table.entries.values():  # the profiler's own report: every run kept, median of them
        lat = entry["latency"]
        assert lat["repeats"] == 2 and len(lat["runs_s"]) == 2 and lat["threads"] == 1
        assert entry["median_s"] == pytest.approx(sorted(lat["runs_s"])[0] / 2 + sorted(lat["runs_s"])[1] / 2)
    assert est["latency_s"] == pytest.approx(est["rest_s"] + sum(est["blocks_s"].values()))

    again = LatencyTable(shape=shape, warmup=0, repeats=2)  # a new process would read the same file
    assert again.path == table.path and again.estimate(cfg) == est
    assert again.measured == 0 and len(calls) == len(parts) + 1
    other = LatencyTable(shape=shape, threads=2, warmup=0, repeats=2)  # another machine identity
    assert other.path != table.path and other.entries == {}


def test_candidate_configs_drop_slots_and_set_temporal_types() -> None:
    from vbench_lite.methods.backbone.unet import UNetConfig
    from vbench_lite.methods.snapgen_v.space import candidate_config, genes_of, search_space

    base = UNetConfig()
    space = search_space(base)
    assert set(space) == {"down.0.0", "down.0.1", "down.1.0", "down.1.1", "up.1.0", "up.1.1", "up.0.0", "up.0.1", "mid"}
    assert candidate_config(base, genes_of(base)) == base  # the baseline's own genes
    genes = {**genes_of(base), "down.0.1": "conv3d", "up.1.0": "drop", "mid": "drop"}
    cfg = candidate_config(base, genes)
    assert cfg.temporal_type("down.0.temporal.1") == "conv3d"
    assert set(cfg.pruned) == {"up.1.res.0", "up.1.temporal.0", "up.1.xattn.0", "mid.res.0"}
    with pytest.raises(ValueError, match="not one of"):
        candidate_config(base, {**genes, "down.0.0": "lstm"})


# -- the search ---------------------------------------------------------------------------------

def test_the_search_never_trains_a_candidate_over_the_budget() -> None:
    from vbench_lite.methods.backbone.evolution import evolutionary_search

    space = {f"g{i}": ("a", "b", "c") for i in range(5)}
    cost = {"a": 3.0, "b": 2.0, "c": 1.0}
    budget = 9.0  # e.g. five "b"s cost 10: over

    def constraint(c):  # type: ignore[no-untyped-def]
        total = sum(cost[v] for v in c.values())
        return total <= budget, {"cost": total}

    trained: list[dict] = []

    def evaluate(c):  # type: ignore[no-untyped-def]
        assert constraint(c)[0], f"trained an over-budget candidate {c}"
        trained.append(c)
        return sum(1.0 for v in c.values() if v == "a") + 0.1 * sum(1.0 for v in c.values() if v == "c")

    res = evolutionary_search(space, evaluate, constraint, max_evaluations=12, population=4, seed=3)
    assert len(trained) == len(res.scored) == 12
    assert len({tuple(sorted(c.items())) for c in trained}) == 12  # never the same candidate twice
    rejected = [r for r in res.trace if r["status"] == "rejected"]
    assert rejected and all(r["constraint"]["cost"] > budget for r in rejected)
    assert all(r["constraint"]["cost"] <= budget for r in res.scored)
    assert res.best["score"] == min(r["score"] for r in res.scored)
    # the same seed and scores replay the same trace (what a resumed search relies on)
    again = evolutionary_search(space, evaluate, constraint, max_evaluations=12, population=4, seed=3)
    assert [r["candidate"] for r in again.trace] == [r["candidate"] for r in res.trace]


def test_the_search_refuses_more_candidates_or_longer_proxies_than_the_issue_allows(tmp_path) -> None:
    from vbench_lite.methods.snapgen_v.search import run_search

    with pytest.raises(ValueError, match="at most 100 steps"):
        run_search(tmp_path, proxy_steps=101)
    with pytest.raises(ValueError, match="at most 12 candidates"):
        run_search(tmp_path, max_candidates=13)


def test_kendall_tau() -> None:
    from vbench_lite.methods.snapgen_v.search import kendall_tau

    assert kendall_tau([1, 2, 3], [10, 20, 30]) == 1.0
    assert kendall_tau([1, 2, 3], [30, 20, 10]) == -1.0
    assert kendall_tau([1, 2, 3], [10, 30, 20]) == pytest.approx(1 / 3)


# -- the 4-step sampler -------------------------------------------------------------------------

def _checkpoint(root: Path, sampler: dict) -> Path:
    from vbench_lite.methods.backbone.autoencoder import load_autoencoder
    from vbench_lite.methods.backbone.checkpoint import save_checkpoint
    from vbench_lite.methods.backbone.model import save_model

    ae = randomize(tiny_autoencoder(), std=0.1)
    save_checkpoint(root / "ae", {"autoencoder": ae.state_dict()}, {"autoencoder": asdict(ae.config)})
    _, ae_sha = load_autoencoder(root / "ae")
    save_model(root / "model", tiny_model(), {"autoencoder_sha256": ae_sha, "sampler": sampler,
                                              "generation": {"frames": 4, "resolution": 24}})
    return root


def test_the_four_step_sampler_makes_exactly_four_denoiser_calls_and_no_cfg_pass(tmp_path) -> None:
    from vbench_lite.methods.snapgen_v import SnapGenVMethod
    from vbench_lite.methods.snapgen_v.adversarial import FOUR_STEPS

    root = _checkpoint(tmp_path, FOUR_STEPS.to_config())
    m = SnapGenVMethod(weights=root / "model", autoencoder=root / "ae")
    m.micro_batch = 2
    m.load("cpu")
    model = m.generator.model
    rows: list[int] = []
    times: list[float] = []
    unet_forward = model.unet.forward

    def counting(x, t, *args, **kw):  # type: ignore[no-untyped-def]
        rows.append(x.shape[0])
        times.append(float(t[0]))
        return unet_forward(x, t, *args, **kw)

    model.unet.forward = counting  # the wrapper every denoiser call goes through
    pairs: list[int] = []
    model.velocity_pair = lambda *a, **k: pairs.append(1)  # a CFG pass would land here
    encoded: list[list[str]] = []
    tokenize = model.tokenize
    model.tokenize = lambda prompts: (encoded.append(list(prompts)), tokenize(prompts))[1]
    video = m.generate(PROMPTS, [1, 2], GenerationSpec(frames=4, resolution=24))
    assert video.shape == (2, 4, 3, 24, 24)
    assert len(rows) == 4 and rows == [2, 2, 2, 2]  # 4 calls on the videos' own rows, no uncond half
    assert times == [1.0, 0.75, 0.5, 0.25]
    assert pairs == [] and encoded == [PROMPTS]  # the empty caption is never encoded
    assert m.describe()["nfe"] == FOUR_STEPS.nfe == 4 and m.describe()["cfg_scale"] == 1.0


# -- the adversarial fine-tuning ------------------------------------------------------------------

def tiny_clips(n: int = 8, frames: int = 4):  # type: ignore[no-untyped-def]
    from vbench_lite.methods.backbone.latents import LatentClips

    g = torch.Generator().manual_seed(0)
    return LatentClips(torch.randn(n, 4, frames, 4, 4, generator=g), [PROMPTS[0]] * n, list(range(n)), "clips", "ae")


def test_adversarial_fine_tuning_trains_only_the_generator_and_the_discriminator_heads(tmp_path) -> None:
    from vbench_lite.methods.backbone.flow_task import FlowRecipe
    from vbench_lite.methods.backbone.trainer import TrainConfig, Trainer
    from vbench_lite.methods.snapgen_v.adversarial import (
        FIXED_TIMES,
        AdversarialFewStepTask,
        FrozenEncoderDiscriminator,
    )

    model = tiny_model()
    disc = FrozenEncoderDiscriminator(model, hidden=8)
    assert disc.taps == ["down.0.downsample", "mid.res.1"]
    with pytest.raises(ValueError, match="without CFG"):
        AdversarialFewStepTask(model, tiny_clips(), FlowRecipe(batch_size=4), disc)
    task = AdversarialFewStepTask(model, tiny_clips(), FlowRecipe(batch_size=4, caption_dropout=0.0), disc)
    batch = task.batch(0, torch.Generator().manual_seed(0))
    assert set(batch.flow.t.tolist()) <= set(FIXED_TIMES)
    snap = lambda m: {k: v.detach().clone() for k, v in m.state_dict().items()}  # noqa: E731
    before = {"backbone": snap(disc.backbone), "model": snap(model), "heads": snap(disc.heads())}
    trainer = Trainer(task, TrainConfig(steps=2, log_every=1, checkpoint_every=2), tmp_path)
    optimised = {id(p) for o in trainer.optimizers.values() for g in o.param_groups for p in g["params"]}
    assert not optimised & {id(p) for p in disc.backbone.parameters()}  # never in an optimiser
    assert {id(p) for p in disc.heads().parameters()} <= optimised
    trainer.run()
    after = {"backbone": snap(disc.backbone), "model": snap(model), "heads": snap(disc.heads())}
    changed = {k: [n for n in before[k] if not torch.equal(before[k][n], after[k][n])] for k in before}
    assert changed["backbone"] == []  # the discriminator's backbone: frozen
    assert not any(p.requires_grad for p in disc.backbone.parameters())
    assert changed["heads"] and any(n.startswith("unet.") for n in changed["model"])  # both players moved
    assert not [n for n in changed["model"] if n.startswith("text_encoder.")]  # the caption encoder: frozen
    assert set(disc.heads().state_dict()) == set(before["heads"])  # D's weights hold no backbone tensor
    assert not any(k.startswith("extractor") for k in disc.heads().state_dict())


# -- the shipped weights ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["snapgen-v", "snapgen-v:no-adv", "snapgen-v:baseline-arch"])
def test_shipped_weights_sample_in_four_calls_without_cfg(name: str) -> None:
    import json

    import vbench_lite
    from vbench_lite.methods.snapgen_v.search import SEARCH_DIR
    from vbench_lite.methods.snapgen_v.space import candidate_config

    m = vbench_lite.load_method(name)
    m.load("cpu")
    d = m.describe()
    assert d["nfe"] == 4 and d["cfg_scale"] == 1.0 and d["times"] == [1.0, 0.75, 0.5, 0.25, 0.0]
    unet = m.generator.model.unet.config
    base = vbench_lite.load_method("baseline")
    base.load("cpu")
    if name == "snapgen-v:baseline-arch":
        assert unet == base.generator.model.unet.config
    else:  # the architecture the committed search chose
        genes = json.loads((SEARCH_DIR / "search.json").read_text())["chosen"]["genes"]
        assert unet == candidate_config(base.generator.model.unet.config, genes)
    assert d["training"]["steps"] >= 1 and d["training"]["seed"] == 0
