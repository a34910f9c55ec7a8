"""Space-time UNet: block shapes at several T and latent sizes, skipping by name, temporal layer
types, absolute frame positions, and width rules."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from vbench_lite.methods.backbone.layers import TEMPORAL_TYPES
from vbench_lite.methods.backbone.tiny import randomize, tiny_model, tiny_unet_config
from vbench_lite.methods.backbone.unet import SpaceTimeUNet, UNetConfig


def _inputs(model, b: int, t: int, size: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 4, t, size, size, generator=g)
    tt = torch.rand(b, generator=g)
    ids = model.tokenize(["a red circle moving left slowly on a black background"] * b)
    with torch.no_grad():
        text = model.encode_text(ids)
    return x, tt, text


def _run(model, x, tt, text, **kw):
    with torch.no_grad():
        return model.unet(x, tt, *text, **kw)


def test_block_names_are_ordered_and_named_like_the_issue():
    unet = SpaceTimeUNet(tiny_unet_config())
    names = unet.block_names()
    assert names[:3] == ["down.0.res.0", "down.0.temporal.0", "down.0.res.1"]
    assert "down.0.downsample" in names and "up.0.upsample" in names
    assert names.index("mid.res.0") < names.index("up.1.res.0") < names.index("up.0.res.0")
    for level in (0, 1):
        for part in ("down", "up"):
            assert sum(n.startswith(f"{part}.{level}.res.") for n in names) >= 2
            assert sum(n.startswith(f"{part}.{level}.temporal.") for n in names) >= 2
    assert "down.1.xattn.0" in names and "down.0.xattn.0" not in names
    for n in names:  # every name resolves to a real submodule
        unet.get_submodule(n)


@pytest.mark.parametrize("frames,size", [(4, 6), (8, 8), (16, 8), (5, 12)])
def test_every_block_keeps_or_rescales_shapes(frames, size):
    model = tiny_model()
    x, tt, text = _inputs(model, 2, frames, size)
    shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    hooks = [
        model.unet.get_submodule(n).register_forward_hook(
            lambda m, a, out, n=n: shapes.__setitem__(n, (tuple(a[0].shape), tuple(out.shape)))
        )
        for n in model.unet.block_names()
    ]
    out = _run(model, x, tt, text)
    for h in hooks:
        h.remove()
    assert out.shape == x.shape
    w0, w1 = model.unet.config.widths
    low = (size + 1) // 2
    for name, (inp, o) in shapes.items():
        if name.endswith("downsample"):
            assert inp == (2 * frames, w0, size, size) and o == (2 * frames, w1, low, low)
        elif name.endswith("upsample"):
            assert inp == (2 * frames, w1, low, low) and o == (2 * frames, w0, low, low)
        else:
            assert inp == o, name
            level = 1 if name.startswith(("down.1", "up.1", "mid")) else 0
            side = low if level else size
            assert o == (2 * frames, (w0, w1)[level], side, side), name
    assert set(shapes) == set(model.unet.block_names())


def test_skipping_a_block_by_name_is_its_identity():
    model = tiny_model()
    x, tt, text = _inputs(model, 2, 4, 8)
    full = _run(model, x, tt, text)
    for name in ["down.0.res.1", "down.1.temporal.0", "mid.xattn.0", "up.0.temporal.1"]:
        skipped = _run(model, x, tt, text, skip={name})
        assert not torch.allclose(skipped, full), name
        block = model.unet.get_submodule(name)
        calls = []
        hook = block.register_forward_hook(lambda *a, calls=calls: calls.append(1))
        _run(model, x, tt, text, skip={name})
        assert not calls, f"{name} ran although skipped"
        hook.remove()
        # The same result as replacing the block with the identity.
        original = block.forward
        block.forward = lambda h, c: h
        try:
            assert torch.equal(_run(model, x, tt, text), skipped)
        finally:
            block.forward = original
    model.unet.skipped = {"up.1.res.0"}
    assert torch.equal(_run(model, x, tt, text), _run(model, x, tt, text, skip={"up.1.res.0"}))
    model.unet.skipped = set()


def test_skipping_unknown_or_unskippable_blocks_is_refused():
    model = tiny_model()
    x, tt, text = _inputs(model, 1, 4, 8)
    with pytest.raises(ValueError, match="cannot skip.*down.9.res.0"):
        _run(model, x, tt, text, skip={"down.9.res.0"})
    with pytest.raises(ValueError, match="cannot skip"):
        _run(model, x, tt, text, skip={"down.0.downsample"})


@pytest.mark.parametrize("kind", TEMPORAL_TYPES)
def test_each_temporal_type_mixes_frames_or_not(kind):
    model = tiny_model(temporal=(kind, kind), cross_attention=(False, False))
    x, tt, text = _inputs(model, 2, 6, 8)
    out = _run(model, x, tt, text)
    assert out.shape == x.shape and torch.isfinite(out).all()
    x2 = x.clone()
    x2[:, :, 0] += 1.0  # perturb frame 0 only
    changed = (_run(model, x2, tt, text) - out)[:, :, 2].abs().max()
    if kind == "none":
        assert changed == 0  # frames are processed independently
    else:
        assert changed > 1e-6  # frame 2 sees frame 0
    # gradients reach the temporal layers
    if kind != "none":
        model.unet.zero_grad()
        model.unet(x, tt, *text).pow(2).mean().backward()
        grads = [p.grad for n, p in model.unet.named_parameters() if ".temporal." in n]
        assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)


def test_temporal_attention_uses_absolute_frame_indices():
    model = tiny_model(temporal=("attn1d", "attn1d"))
    x, tt, text = _inputs(model, 1, 4, 8)
    a = _run(model, x, tt, text, frame_index=torch.arange(4))
    b = _run(model, x, tt, text, frame_index=torch.tensor([0, 4, 8, 12]))
    assert torch.equal(a, _run(model, x, tt, text))  # default positions are 0..T-1
    assert not torch.allclose(a, b)
    per_video = _run(model, x, tt, text, frame_index=torch.tensor([[0, 4, 8, 12]]))
    assert torch.equal(per_video, b)
    with pytest.raises(ValueError, match="frame_index"):
        _run(model, x, tt, text, frame_index=torch.zeros(2, 4))


def test_group_norm_groups_have_fixed_channels_so_sliced_widths_stay_valid():
    cfg = UNetConfig()
    unet = SpaceTimeUNet(cfg)
    norms = [m for m in unet.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(m.num_channels // m.num_groups == cfg.group_channels for m in norms)
    for w in cfg.widths:
        for frac in (0.5, 0.75):
            assert (w * frac) % cfg.group_channels == 0
    with pytest.raises(ValueError, match="multiple of group_channels"):
        SpaceTimeUNet(tiny_unet_config(widths=(6, 16)))
    with pytest.raises(ValueError, match="unknown temporal layer type"):
        tiny_unet_config(temporal=("lstm", "attn1d"))


def test_default_denoiser_cost_fits_the_speed_budget():
    """A batch-32 call of the shipped architecture costs about 6 GFLOPs (2 x MAC)."""
    from torch.utils.flop_counter import FlopCounterMode

    from vbench_lite.methods.backbone.model import VideoDiffusion

    model = VideoDiffusion().eval()
    x, tt, text = _inputs(model, 32, 16, 8)
    counter = FlopCounterMode(display=False)
    with counter:
        _run(model, x, tt, text)
    assert 3e9 < counter.get_total_flops() < 8e9


def test_randomize_changes_zero_initialised_outputs():
    model = tiny_model(randomized=False)
    x, tt, text = _inputs(model, 1, 4, 8)
    assert torch.equal(_run(model, x, tt, text), torch.zeros_like(x))  # zero-initialised output conv
    randomize(model)
    assert _run(model, x, tt, text).abs().sum() > 0


def test_coordinates_are_normalised_x_then_y():
    grid = SpaceTimeUNet.coordinates(3, 6, 8, torch.zeros(1))
    assert grid.shape == (3, 2, 6, 8)
    assert torch.equal(grid[0, 0, 0], torch.linspace(-1, 1, 8))  # x grows along the width
    assert torch.equal(grid[0, 1, :, 0], torch.linspace(-1, 1, 6))  # y grows along the height


def test_the_default_config_is_the_shipped_baseline_and_old_configs_load():
    import json

    from vbench_lite.methods.baseline import WEIGHTS_DIR

    shipped = json.loads((WEIGHTS_DIR / "config.json").read_text())["model"]["unet"]
    assert "blocks_per_level" in shipped  # the per-level form written before issue 14
    assert UNetConfig.from_dict(shipped) == UNetConfig()
    assert UNetConfig.from_dict(UNetConfig().to_dict()) == UNetConfig()
    cfg = tiny_unet_config(temporal=("conv3d", "attn1d"))
    assert UNetConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="'frame_film' was removed"):
        UNetConfig.from_dict({**shipped, "frame_film": True})


def test_temporal_type_and_block_count_per_block():
    cfg = tiny_unet_config().with_temporal({"down.1.temporal.0": "none", "up.0.temporal.1": "conv3d",
                                            "mid.temporal.0": "conv1d"})
    assert cfg.temporal_down == (("conv1d", "conv1d"), ("none", "attn1d"))
    assert cfg.temporal_type("up.0.temporal.1") == "conv3d" and cfg.temporal_type("mid.temporal.0") == "conv1d"
    from vbench_lite.methods.backbone.layers import NoTemporal, TemporalConv1d, TemporalConv3d

    unet = SpaceTimeUNet(cfg)
    assert isinstance(unet.get_submodule("down.1.temporal.0"), NoTemporal)
    assert isinstance(unet.get_submodule("up.0.temporal.1"), TemporalConv3d)
    assert isinstance(unet.get_submodule("mid.temporal.0"), TemporalConv1d)
    uneven = SpaceTimeUNet(replace(tiny_unet_config(), blocks=(1, 3), temporal_down=(("conv1d",), ("attn1d",) * 3),
                                   temporal_up=(("none",), ("attn1d",) * 3)))
    names = uneven.block_names()
    assert "down.0.res.1" not in names and "up.1.res.2" in names and "down.1.temporal.2" in names
    x = torch.randn(1, 4, 4, 8, 8)
    ids = tiny_model().tokenize(["a red circle moving left slowly on a black background"])
    with torch.no_grad():
        text = tiny_model().encode_text(ids)
        assert uneven(x, torch.rand(1), *text).shape == x.shape
    with pytest.raises(ValueError, match=r"temporal_down\[1\] needs one type per block"):
        replace(tiny_unet_config(), blocks=(2, 3))
    with pytest.raises(ValueError, match="not a temporal block name"):
        tiny_unet_config().with_temporal({"down.1.res.0": "none"})


def test_feature_taps_return_block_outputs_from_the_same_pass():
    model = tiny_model()
    x, tt, text = _inputs(model, 2, 4, 8)
    names = ("down.0.res.1", "down.1.xattn.0", "mid.res.1", "up.0.upsample")
    seen: dict[str, torch.Tensor] = {}
    hooks = [model.unet.get_submodule(n).register_forward_hook(lambda m, a, out, n=n: seen.__setitem__(n, out))
             for n in names]
    calls = []
    hooks.append(model.unet.register_forward_pre_hook(lambda m, a: calls.append(1)))
    with torch.no_grad():
        v, feats = model.unet(x, tt, *text, return_features=names)
    for h in hooks:
        h.remove()
    assert len(calls) == 1 and list(feats) == list(names)
    assert torch.equal(v, _run(model, x, tt, text))
    w0, w1 = model.unet.config.widths
    assert feats["down.0.res.1"].shape == (2, w0, 4, 8, 8) and feats["mid.res.1"].shape == (2, w1, 4, 4, 4)
    for n in ("down.0.res.1", "down.1.xattn.0", "mid.res.1"):  # frame-major rows back to [B, C, T, h, w]
        assert torch.equal(feats[n], seen[n].view(2, 4, *seen[n].shape[1:]).transpose(1, 2))
    assert feats["up.0.upsample"].shape == (2, w0, 4, 8, 8)  # after the nearest upsampling
    with torch.no_grad():  # a skipped block's "output" is its input
        _, f = model.unet(x, tt, *text, skip={"down.0.res.1"}, return_features=("down.0.temporal.0", "down.0.res.1"))
    assert torch.equal(f["down.0.res.1"], f["down.0.temporal.0"])
    with pytest.raises(ValueError, match="cannot tap"):
        model.unet(x, tt, *text, return_features=("down.7.res.0",))


def test_layout_field_depends_on_caption_frame_and_position_and_starts_at_zero():
    fresh = tiny_model(layout=True, randomized=False)
    model = tiny_model(layout=True)
    names = list(model.unet.layout_out)
    assert names == ["down0", "down1", "up0", "up1"]
    assert "layout" not in " ".join(model.unet.block_names())  # not a (skippable) block
    for t, size in ((4, 6), (8, 8), (16, 12)):  # any frame count and latent size
        x, tt, text = _inputs(model, 2, t, size)
        assert _run(model, x, tt, text).shape == x.shape
    x, tt, text = _inputs(model, 2, 4, 8)
    with torch.no_grad():
        c = model.unet.make_cond(tt, *text, frames=4, frame_index=None)
        c0 = fresh.unet.make_cond(tt, *text, frames=4, frame_index=None)
        f0 = fresh.unet._layout("down0", c0, 8, 8)
        f = model.unet._layout("down0", c, 8, 8)
    assert f.shape == (2 * 4, model.unet.config.widths[0], 8, 8)
    assert torch.equal(f0, torch.zeros_like(f0))  # zero-initialised readout: starts as the plain UNet
    assert not torch.allclose(f[0], f[1])  # frame 0 vs frame 1 of video 0
    assert not torch.allclose(f[0, :, :, 0], f[0, :, :, -1])  # left vs right column
    other = model.encode_text(model.tokenize(["a red circle moving right slowly on a black background"] * 2))
    with torch.no_grad():
        c2 = model.unet.make_cond(tt, *other, frames=4, frame_index=None)
        assert not torch.allclose(f, model.unet._layout("down0", c2, 8, 8))  # the caption changes it
    # absolute frame indices: frame 4 of a subsampled clip gets frame 4's field
    with torch.no_grad():
        c_sub = model.unet.make_cond(tt, *text, frames=2, frame_index=torch.tensor([0, 2]))
        c_all = model.unet.make_cond(tt, *text, frames=3, frame_index=None)
        sub = model.unet._layout("up1", c_sub, 4, 4).view(2, 2, -1, 4, 4)
        full = model.unet._layout("up1", c_all, 4, 4).view(2, 3, -1, 4, 4)
    torch.testing.assert_close(sub[:, 1], full[:, 2])
