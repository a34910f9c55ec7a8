"""FLOP counts against analytic formulas, to the FLOP (2 FLOPs per multiply-accumulate)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.test_profile_tiny_method import (
    DOWN,
    EMBED,
    LATENT,
    SPEC,
    TinyDecoder,
    TinyDenoiser,
    TinyTextEncoder,
    TinyVideoMethod,
    decoder_flops,
    denoiser_flops,
    text_flops,
)
from vbench_lite.profile import UncountedOpError, count_flops, stage

MODES = [torch.no_grad, torch.inference_mode, torch.enable_grad]


def flops(fn, mode=torch.no_grad) -> int:
    with mode():
        return count_flops(fn).total


@pytest.mark.parametrize("mode", MODES)
def test_linear(mode) -> None:
    lin = nn.Linear(24, 40)
    assert flops(lambda: lin(torch.randn(5, 24)), mode) == 2 * 5 * 24 * 40
    assert flops(lambda: lin(torch.randn(2, 7, 24)), mode) == 2 * 2 * 7 * 24 * 40
    no_bias = nn.Linear(24, 40, bias=False)
    assert flops(lambda: no_bias(torch.randn(3, 24)), mode) == 2 * 3 * 24 * 40


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_strided_and_grouped(mode) -> None:
    conv = nn.Conv2d(8, 12, 3, stride=2, padding=1, groups=4)  # 16x16 -> 8x8, C_in/groups = 2
    assert flops(lambda: conv(torch.randn(2, 8, 16, 16)), mode) == 2 * 2 * 8 * 8 * 12 * 2 * 3 * 3
    up = nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1)  # transposed: counted at the input positions
    assert flops(lambda: up(torch.randn(1, 6, 5, 5)), mode) == 2 * 1 * 5 * 5 * 6 * 4 * 4 * 4


@pytest.mark.parametrize("mode", MODES)
def test_conv3d(mode) -> None:
    conv = nn.Conv3d(3, 5, (3, 3, 3), padding=(1, 0, 0))  # [2, 3, 4, 6, 6] -> [2, 5, 4, 4, 4]
    assert flops(lambda: conv(torch.randn(2, 3, 4, 6, 6)), mode) == 2 * 2 * 4 * 4 * 4 * 5 * 3 * 27


@pytest.mark.parametrize("mode", MODES)
def test_temporal_1d_convolution(mode) -> None:
    b, c, t, h, w = 2, 6, 8, 3, 3
    x = torch.randn(b, c, t, h, w)
    conv1d = nn.Conv1d(c, c, 3, padding=1)
    seq = x.permute(0, 3, 4, 1, 2).reshape(b * h * w, c, t)
    expected = 2 * (b * h * w) * t * c * c * 3
    assert flops(lambda: conv1d(seq), mode) == expected
    conv3d = nn.Conv3d(c, c, (3, 1, 1), padding=(1, 0, 0))  # the same temporal conv as a 3D kernel
    assert flops(lambda: conv3d(x), mode) == expected


@pytest.mark.parametrize("mode", MODES)
def test_attention_qk_and_av(mode) -> None:
    b, heads, tq, tk, d = 2, 3, 10, 7, 8
    q, k, v = torch.randn(b, heads, tq, d), torch.randn(b, heads, tk, d), torch.randn(b, heads, tk, d)
    expected = 4 * b * heads * tq * tk * d
    assert flops(lambda: F.scaled_dot_product_attention(q, k, v), mode) == expected
    assert flops(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=False, scale=0.3), mode) == expected
    mask = torch.ones(tq, tk, dtype=torch.bool).tril()
    assert flops(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), mode) == expected
    # the explicit form (matmul, softmax, matmul) gives the same count
    assert flops(lambda: (q @ k.transpose(-1, -2)).softmax(-1) @ v, mode) == expected


def test_attention_grouped_query_counts_per_query_head() -> None:
    q, kv = torch.randn(1, 4, 6, 8), torch.randn(1, 2, 6, 8)
    assert flops(lambda: F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)) == 4 * 1 * 4 * 6 * 6 * 8


@pytest.mark.parametrize("mode", MODES)
def test_multihead_attention_module(mode) -> None:
    e, heads, b, t = 16, 4, 2, 5
    mha = nn.MultiheadAttention(e, heads, batch_first=True).eval()
    x = torch.randn(b, t, e)
    expected = 4 * (2 * b * t * e * e) + 4 * b * heads * t * t * (e // heads)  # q, k, v, out + attention
    assert flops(lambda: mha(x, x, x, need_weights=False), mode) == expected


def test_cpu_sdpa_kernel_is_counted() -> None:
    """CPU sdpa runs as _scaled_dot_product_flash_attention_for_cpu; it must not count as zero."""
    q = torch.randn(1, 2, 4, 8)
    with torch.no_grad():
        report = count_flops(lambda: F.scaled_dot_product_attention(q, q, q))
    assert report.by_operator == {"_scaled_dot_product_flash_attention_for_cpu": 4 * 2 * 4 * 4 * 8}


@pytest.mark.parametrize("mode", MODES)
def test_one_block(mode) -> None:
    net = TinyDenoiser().eval()
    x, cond = torch.randn(2, LATENT, 3, 5, 5), torch.randn(2, EMBED)
    assert flops(lambda: net(x, cond), mode) == denoiser_flops(2, 3, 5, 5)


def test_uncounted_dense_op_fails_loudly() -> None:
    lib = torch.library.Library("vbl_flops_test", "DEF")  # noqa: TOR901 (a throwaway test op)
    lib.define("fused_matmul(Tensor a, Tensor b) -> Tensor")
    lib.impl("fused_matmul", lambda a, b: a @ b, "CompositeExplicitAutograd")
    a = torch.randn(3, 4)
    with pytest.raises(UncountedOpError, match="vbl_flops_test.fused_matmul ran with no FLOP formula"):
        count_flops(lambda: torch.ops.vbl_flops_test.fused_matmul(a, a.T))
    # an extra formula makes it countable
    extra = {torch.ops.vbl_flops_test.fused_matmul: lambda a, b, out_shape=None: 2 * a[0] * a[1] * b[1]}
    assert count_flops(lambda: torch.ops.vbl_flops_test.fused_matmul(a, a.T), extra=extra).total == 2 * 3 * 4 * 3


def test_elementwise_ops_do_not_fail() -> None:
    x = torch.randn(4, 8)
    report = count_flops(lambda: F.silu(F.layer_norm(x, (8,))) + x.softmax(-1))
    assert report.total == 0


def test_stages_split_the_count() -> None:
    lin = nn.Linear(4, 4)
    x = torch.randn(2, 4)

    def fn() -> None:
        with stage("text"):
            lin(x)
        with stage("denoise"):
            for _ in range(3):
                lin(x)
        lin(x)

    report = count_flops(fn)
    one = 2 * 2 * 4 * 4
    assert report.by_stage == {"text": one, "denoise": 3 * one, "unstaged": one}
    assert report.total == 5 * one and report.unit == "FLOP"


# -- whole generations ----------------------------------------------------------------------------
SIDE = SPEC.resolution // DOWN


def generation(method: TinyVideoMethod, batch: int = 1):
    method.load()
    return count_flops(lambda: method.generate(["a green star"] * batch, list(range(batch)), SPEC), denoiser=method.net)


@pytest.mark.parametrize("steps", [1, 4])
def test_k_step_sampler_is_k_times_per_call_plus_fixed_parts(steps) -> None:
    report = generation(TinyVideoMethod(steps=steps))
    per_call = denoiser_flops(1, SPEC.frames, SIDE, SIDE)
    fixed = text_flops(1) + decoder_flops(1, SPEC.frames, SPEC.resolution)
    assert report.denoiser_calls == (per_call,) * steps
    assert report.per_denoiser_call == per_call
    assert report.total == steps * per_call + fixed
    assert report.by_stage == {"text": text_flops(1), "denoise": steps * per_call,
                               "decode": decoder_flops(1, SPEC.frames, SPEC.resolution)}


def test_cfg_doubles_the_denoiser_part() -> None:
    plain, cfg = generation(TinyVideoMethod(steps=3)), generation(TinyVideoMethod("cfg", steps=3))
    assert cfg.by_stage["denoise"] == 2 * plain.by_stage["denoise"]
    assert len(cfg.denoiser_calls) == 2 * len(plain.denoiser_calls)
    assert cfg.by_stage["text"] == 2 * plain.by_stage["text"]  # the empty prompt is encoded too
    assert cfg.by_stage["decode"] == plain.by_stage["decode"]


def test_count_is_linear_in_batch() -> None:
    one, three = generation(TinyVideoMethod("cfg"), 1), generation(TinyVideoMethod("cfg"), 3)
    per_video = three.scaled(3)
    # (torch may pick bmm at one batch size and addmm at another, so by_operator can differ)
    assert (per_video.total, per_video.by_stage, per_video.denoiser_calls) == (one.total, one.by_stage, one.denoiser_calls)


def test_generation_counts_inside_inference_mode() -> None:
    method = TinyVideoMethod()  # generate() itself runs under torch.inference_mode
    method.load()
    with torch.inference_mode():
        report = count_flops(lambda: method.generate(["x"], [0], SPEC))
    assert report.total == 3 * denoiser_flops(1, SPEC.frames, SIDE, SIDE) + text_flops(1) + decoder_flops(1, SPEC.frames, SPEC.resolution)


def test_text_encoder_and_decoder_parts() -> None:
    with torch.no_grad():
        assert count_flops(lambda: TinyTextEncoder()(torch.zeros(2, 4, dtype=torch.long))).total == text_flops(2)
        assert count_flops(lambda: TinyDecoder()(torch.randn(1, LATENT, 2, 8, 8))).total == decoder_flops(1, 2, 32)


def test_in_place_and_vector_matmul_variants() -> None:
    a, b = torch.randn(3, 4), torch.randn(4, 5)
    assert count_flops(lambda: torch.zeros(3, 5).addmm_(a, b)).total == 2 * 3 * 4 * 5
    b1, b2 = torch.randn(2, 3, 4), torch.randn(2, 4, 5)
    assert count_flops(lambda: torch.zeros(2, 3, 5).baddbmm_(b1, b2)).total == 2 * 2 * 3 * 4 * 5
    assert count_flops(lambda: torch.zeros(3, 5).addbmm_(b1, b2)).total == 2 * 2 * 3 * 4 * 5
    assert count_flops(lambda: torch.mv(a, torch.randn(4))).total == 2 * 3 * 4
    assert count_flops(lambda: torch.dot(a[0], a[1])).total == 2 * 4
    assert count_flops(lambda: torch.addr(torch.zeros(4, 5), a[0], b[0])).total == 2 * 4 * 5
