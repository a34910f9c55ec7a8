"""The diffusers adapter end to end, offline: a tiny randomly initialised TextToVideoSDPipeline (tiny
UNet3DConditionModel, AutoencoderKL and CLIPTextModel, a CLIP tokenizer whose vocab and merges this
fixture writes) saved with save_pretrained, run through `run --method diffusers` on a prompt list
against a folder of real videos with a randomly initialised I3D-interface TorchScript detector."""

# ruff: noqa: F811 - the test functions take the fixtures imported from test_i3d_route by name

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.test_i3d_route import _few_bootstrap_resamples, i3d_file  # noqa: F401 - shared fixtures
from tests.test_prompt_suites import write_real_videos
from vbench_lite.cli import main
from vbench_lite.results import RunResult

diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")

WORDS = ["a", "red", "blue", "circle", "square", "cat", "dog", "moving", "left", "right", "on", "the", "beach"]
PROMPTS = ["a red circle moving left", "a blue square on the beach", "a cat", "a dog moving right"]


def build_tiny_pipeline(root: Path) -> Path:
    """16 frames at 32x32 (UNet sample size 16 x VAE scale 2), 2-level tiny networks."""
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet3DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"), up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=16, attention_head_dim=4, norm_num_groups=4,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32,
    )
    text = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=16, intermediate_size=32, num_attention_heads=2,
        num_hidden_layers=2, vocab_size=128, max_position_embeddings=77, projection_dim=16,
    ))
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for w in WORDS:
        vocab[f"{w}</w>"] = len(vocab)
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(f"{c}</w>", len(vocab))
    tok_dir = root / "tokenizer-src"
    tok_dir.mkdir(parents=True)
    (tok_dir / "vocab.json").write_text(json.dumps(vocab))
    (tok_dir / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(tok_dir / "vocab.json"), str(tok_dir / "merges.txt"), model_max_length=77)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False)
    pipe = TextToVideoSDPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler)
    out = root / "tiny-t2v"
    pipe.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("pipe"))


@pytest.fixture(autouse=True)
def _no_published_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VBENCH_LITE_DIFFUSERS_METHODS", raising=False)


def _prompts(tmp_path: Path) -> Path:
    f = tmp_path / "prompts.txt"
    f.write_text("\n".join(PROMPTS) + "\n")
    return f


def _method_file(tmp_path: Path, pipeline: Path, **settings: object) -> Path:
    lines = ['name = "tiny-t2v-2step"', f'model = "{pipeline}"', "steps = 2", "guidance_scale = 7.5"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    f = tmp_path / "tiny.toml"
    f.write_text("\n".join(lines) + "\n")
    return f


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> RunResult:
    assert main([*args, "--json"]) == 0, capsys.readouterr().err
    return RunResult.from_dict(json.loads(capsys.readouterr().out))


def _denoiser_flops_by_direct_count(pipeline: Path) -> int:
    """FLOPs of every UNet call of one video's generation, each call counted on its own."""
    from diffusers import TextToVideoSDPipeline

    from vbench_lite.profile import count_flops

    pipe = TextToVideoSDPipeline.from_pretrained(pipeline, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    calls: list[tuple[tuple, dict]] = []
    handle = pipe.unet.register_forward_pre_hook(lambda m, a, k: calls.append((a, k)), with_kwargs=True)
    with torch.inference_mode():
        pipe(PROMPTS[0], num_inference_steps=2, guidance_scale=7.5, num_frames=16, height=32, width=32,
             generator=[torch.Generator().manual_seed(0)], output_type="pt")
    handle.remove()
    assert len(calls) == 2  # 2 steps, CFG batched into one call of 2 rows
    with torch.inference_mode():
        return sum(count_flops(lambda a=a, k=k: pipe.unet(*a, **k)).total for a, k in calls)


def test_run_on_a_prompt_list_against_real_videos(tiny_pipeline: Path, i3d_file: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    real = write_real_videos(tmp_path / "real", 10, frames=20)
    suite = f"prompts:{_prompts(tmp_path)}?samples=2"
    args = ["run", "--method", "diffusers", "--method-file", str(_method_file(tmp_path, tiny_pipeline)),
            "--suite", suite, "--reference", str(real), "--metrics", "fvd,kvd", "--detector", "i3d",
            "--detector-weights", str(i3d_file), "--no-latency", "--out", str(tmp_path / "runs")]
    r = _run(args, capsys)
    assert r.method_id == "diffusers:tiny-t2v-2step" and r.num_videos == 8 and r.suite == "prompts-prompts"
    assert r.metrics["fvd"].value > 0 and r.metrics["fvd"].protocol["num_reference"] == 10
    assert r.metrics["fvd"].protocol["detector"] == "i3d" and r.metrics["kvd"].value is not None
    info = r.method_info
    assert info.extra["pipeline_class"] == "TextToVideoSDPipeline" and info.nfe == 4  # 2 steps x CFG, counted
    assert info.frames == 16 and info.extra["size"] == [32, 32] and len(info.weights_sha256 or "") == 64
    assert r.spec["reference_method"] is None and r.profile.speedup is None  # the baseline is not its reference
    flops = r.profile.flops
    assert flops.unit == "FLOP" and all(flops.by_stage[s] > 0 for s in ("text", "denoise", "decode"))
    assert flops.by_stage["denoise"] == _denoiser_flops_by_direct_count(tiny_pipeline)
    assert flops.denoiser_calls == len(flops.denoiser_call_flops) == 2 * 16  # the batch of 16 videos, 2 calls each
    assert r.profile.memory["peak_bytes"] > 0  # the peak-memory subprocess rebuilt the same pipeline
    run_dir = next((tmp_path / "runs" / "prompts-prompts" / "diffusers:tiny-t2v-2step").iterdir())
    assert (run_dir / "results.json").is_file() and len(list((run_dir / "videos").iterdir())) == 8
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    assert [(row["prompt"], row["seed"]) for row in rows[:3]] == [(PROMPTS[0], 0), (PROMPTS[0], 1), (PROMPTS[1], 1000)]
    assert main(["leaderboard", "--results", str(tmp_path / "runs"), "--suite", "prompts-prompts",
                 "--out", str(tmp_path / "lb")]) == 0, capsys.readouterr().err
    table = next((tmp_path / "lb").rglob("leaderboard.md")).read_text()
    assert "diffusers:tiny-t2v-2step" in table


def test_videos_do_not_depend_on_the_batch(tiny_pipeline: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Harness micro-batch 1 vs 4 (the pipeline called on a fixed 2 videos, padded): the same bytes."""
    method = _method_file(tmp_path, tiny_pipeline, micro_batch=2)
    base = ["run", "--method", "diffusers", "--method-file", str(method), "--suite",
            f"prompts:{_prompts(tmp_path)}?samples=1", "--metrics", "toy-mean", "--no-profile", "--no-cache"]
    capsys.readouterr()
    one = _run([*base, "--batch-size", "1", "--out", str(tmp_path / "a")], capsys)
    four = _run([*base, "--batch-size", "4", "--out", str(tmp_path / "b")], capsys)
    assert one.videos_sha256 == four.videos_sha256 and one.num_videos == 4


def test_model_folder_route(tiny_pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--model DIR` alone: the pipeline's own defaults (50 steps, CFG, 16 frames, 32x32 from the UNet's
    sample size), the row named after the folder, NFE counted."""
    r = _run(["run", "--method", "diffusers", "--model", str(tiny_pipeline), "--suite",
              f"prompts:{_prompts(tmp_path)}?samples=1", "--num-videos", "1", "--metrics", "toy-mean",
              "--no-profile", "--out", str(tmp_path / "runs")], capsys)
    assert r.method_id == "diffusers:tiny-t2v" and r.method_info.nfe == 100 and r.method_info.steps == 50
    assert r.spec["generation"] == {"frames": 16, "resolution": 32, "fps": 8, "size": [32, 32]}


def _fake_pipeline(tmp_path: Path, class_name: str) -> Path:
    d = tmp_path / class_name.lower()
    d.mkdir()
    (d / "model_index.json").write_text(json.dumps({"_class_name": class_name, "_diffusers_version": "0.35.0"}))
    return d


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t, p: t / "absent", "no such folder"),
        (lambda t, p: (t / "plain").mkdir() or (t / "plain"), "is not a diffusers pipeline folder \\(no model_index.json\\)"),
        (lambda t, p: _fake_pipeline(t, "StableDiffusionPipeline"),
         "StableDiffusionPipeline at .* is not a text-to-video pipeline \\(its __call__ takes no num_frames\\)"),
        (lambda t, p: _fake_pipeline(t, "CogVideoXImageToVideoPipeline"), "not a text-to-video pipeline \\(it needs image\\)"),
        (lambda t, p: _fake_pipeline(t, "NoSuchPipeline"), "pipeline class 'NoSuchPipeline' .* is not in diffusers"),
    ],
)
def test_bad_pipeline_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str], make, message: str) -> None:
    import re

    folder = make(tmp_path, None)
    assert main(["run", "--method", "diffusers", "--model", str(folder), "--no-profile", "--out",
                 str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert re.search(message, err) and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_missing_component_file_is_named(tiny_pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_pipeline, broken)
    for f in (broken / "unet").glob("diffusion_pytorch_model*"):
        f.unlink()
    args = ["run", "--method", "diffusers", "--model", str(broken), "--suite", f"prompts:{_prompts(tmp_path)}",
            "--no-profile", "--metrics", "toy-mean", "--out", str(tmp_path / "runs")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("vbench-lite run: error: cannot load the diffusers pipeline at") and str(broken) in err
    assert not any((tmp_path / "runs").rglob("results.json"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "baseline", "--model", "x"], "method 'baseline' takes no --model"),
        (["--method", "diffusers"], "needs a pipeline: --model DIR"),
        (["--method", "diffusers:nothing-here"], "no diffusers method file named 'nothing-here'"),
        (["--method", "diffusers", "--method-file", "absent.toml"], "--method-file absent.toml: no such file"),
    ],
)
def test_bad_method_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(["run", *args, "--no-profile", "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_method_files_folder(tiny_pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`diffusers:NAME` finds NAME.toml in $VBENCH_LITE_METHOD_FILES (a reusable row, e.g. as a reference)."""
    from vbench_lite import load_method

    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "tiny-t2v-2step.toml").write_text(_method_file(tmp_path, tiny_pipeline).read_text())
    monkeypatch.setenv("VBENCH_LITE_METHOD_FILES", str(folder))
    m = load_method("diffusers:tiny-t2v-2step")
    assert m.config.steps == 2 and m.generation_spec().size == (32, 32)


def test_python_api(tiny_pipeline: Path, tmp_path: Path) -> None:
    """`evaluate_method` with an adapter instance generates at the pipeline's own frames and size."""
    from vbench_lite import evaluate_method
    from vbench_lite.methods.diffusers import DiffusersMethod

    method = DiffusersMethod(method_file=_method_file(tmp_path, tiny_pipeline))
    r = evaluate_method(method, suite=f"prompts:{_prompts(tmp_path)}?samples=1", split="eval", num_videos=2,
                        metrics=["toy-mean"])
    assert r.method_id == "diffusers:tiny-t2v-2step" and r.spec["generation"]["size"] == [32, 32]
    assert r.method_info.nfe == 4


def test_another_row_as_reference_method(tiny_pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`--reference-method diffusers:NAME` (a method file in $VBENCH_LITE_METHOD_FILES): fidelity of a row
    against another row of the same pipeline; the same settings give identical videos (PSNR inf)."""
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "tiny-t2v-2step.toml").write_text(_method_file(tmp_path, tiny_pipeline).read_text())
    monkeypatch.setenv("VBENCH_LITE_METHOD_FILES", str(folder))
    r = _run(["run", "--method", "diffusers:tiny-t2v-2step", "--reference-method", "diffusers:tiny-t2v-2step",
              "--suite", f"prompts:{_prompts(tmp_path)}?samples=1", "--num-videos", "2", "--metrics", "fidelity",
              "--no-profile", "--out", str(tmp_path / "runs")], capsys)
    assert r.spec["reference_method"] == "diffusers:tiny-t2v-2step"
    assert r.metrics["fidelity_psnr"].value == float("inf")
