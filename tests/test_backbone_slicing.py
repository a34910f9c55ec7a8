"""Width slicing: a subnet running on the leading channels of the supernet's weights equals a
standalone UNet built at those widths with the leading-channel weights copied in."""

from __future__ import annotations

import pytest
import torch

from vbench_lite.methods.backbone.slicing import SubNet, materialize, scaled_widths, subnet
from vbench_lite.methods.backbone.tiny import tiny_model

# widths (16, 32): x0.5 -> (8, 16), x0.75 -> (12, 24); head_channels 8 -> 4 / 2 / 3 heads at level 1
SUPER = dict(widths=(16, 32), head_channels=8, temporal=("conv1d", "attn1d"))


def _inputs(model, size: int, b: int = 2, t: int = 4):  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(size)
    x = torch.randn(b, 4, t, size, size, generator=g)
    with torch.no_grad():
        text = model.encode_text(model.tokenize(["a red circle moving left slowly on a black background",
                                                 "a blue square to the left of a green cross, both moving up quickly, "
                                                 "on a white background"][:b]))
    return x, torch.rand(b, generator=g), text


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return tiny_model(**SUPER)


@pytest.mark.parametrize("size", [6, 8, 12])
@pytest.mark.parametrize("multiplier", [0.5, 0.75, 1.0])
def test_sliced_subnet_equals_a_standalone_module_with_copied_weights(model, multiplier, size) -> None:  # type: ignore[no-untyped-def]
    x, t, text = _inputs(model, size)
    widths = scaled_widths(model.unet.config, multiplier)
    assert widths == {0.5: (8, 16), 0.75: (12, 24), 1.0: (16, 32)}[multiplier]
    net = subnet(model.unet, widths=multiplier)
    small = materialize(model.unet, widths)
    assert small.config.widths == widths
    with torch.no_grad():
        out = net(x, t, *text)
        assert torch.equal(out, small(x, t, *text))
        if multiplier == 1.0:  # the full width is the supernet itself
            assert torch.equal(out, model.unet(x, t, *text))
        else:
            assert not torch.allclose(out, model.unet(x, t, *text))
    assert net.num_parameters() == sum(p.numel() for p in small.parameters())


def test_subnet_with_skipped_blocks_and_taps(model) -> None:  # type: ignore[no-untyped-def]
    x, t, text = _inputs(model, 8)
    skip = ("down.1.temporal.0", "mid.res.1", "up.0.res.1")
    net = subnet(model.unet, widths=(8, 24), skip=skip)
    small = materialize(model.unet, (8, 24), skip)
    assert not set(skip) & set(small.block_names())
    with torch.no_grad():
        v, f = net(x, t, *text, return_features=("down.1.res.1",))
        v2, f2 = small(x, t, *text, return_features=("down.1.res.1",))
    assert torch.equal(v, v2) and torch.equal(f["down.1.res.1"], f2["down.1.res.1"])
    assert f["down.1.res.1"].shape == (2, 24, 4, 4, 4)


def test_gradients_reach_only_the_leading_channels(model) -> None:  # type: ignore[no-untyped-def]
    x, t, text = _inputs(model, 8)
    model.unet.zero_grad()
    subnet(model.unet, widths=0.5)(x, t, *text).pow(2).mean().backward()
    w = model.unet.get_submodule("down.1.res.0.conv1").weight
    assert w.grad[:16, :16].abs().sum() > 0 and w.grad[16:].abs().sum() == 0 and w.grad[:, 16:].abs().sum() == 0
    qkv = model.unet.get_submodule("down.1.temporal.0.qkv").weight.grad  # q | k | v: leading 16 of each chunk
    for chunk in range(3):
        assert qkv[chunk * 32 + 16 : (chunk + 1) * 32].abs().sum() == 0
    model.unet.zero_grad()


def test_resolution_and_bad_widths_are_checked(model) -> None:  # type: ignore[no-untyped-def]
    x, t, text = _inputs(model, 8)
    net = subnet(model.unet, widths=0.5, resolution=24)
    assert isinstance(net, SubNet)
    with pytest.raises(ValueError, match="generates 24px videos"):
        net(x, t, *text)
    x6, t6, text6 = _inputs(model, 6)  # 24 px videos have 6x6 latents (the autoencoder downscales 4x)
    with torch.no_grad():
        assert net(x6, t6, *text6).shape == (2, 4, 4, 6, 6)
    with pytest.raises(ValueError, match="multiple of group_channels"):
        subnet(model.unet, widths=(10, 32))
    with pytest.raises(ValueError, match="at most the supernet's 32"):
        subnet(model.unet, widths=(16, 40))


def test_a_subnet_generates_in_place_of_the_unet_and_reports_its_own_parameters() -> None:
    from vbench_lite.methods.backbone.adapter import count_parameters
    from vbench_lite.methods.backbone.pipeline import LatentVideoGenerator
    from vbench_lite.methods.backbone.sampler import FlowSampler
    from vbench_lite.methods.backbone.tiny import tiny_autoencoder

    model = tiny_model(**SUPER)
    full = count_parameters(model.unet)
    net = subnet(model.unet, widths=0.5, skip=("mid.res.1",), resolution=24)
    small = materialize(model.unet, net.widths, net.skip)
    assert count_parameters(net) == sum(p.numel() for p in small.parameters()) < full
    less = count_parameters(net, ("down.0.res.0",))
    assert less == count_parameters(net) - sum(p.numel() for p in small.get_submodule("down.0.res.0").parameters())
    model.unet = net
    gen = LatentVideoGenerator(model, tiny_autoencoder(), FlowSampler.uniform(2), micro_batch=2, skip=("down.0.res.0",))
    video = gen.generate(["a red circle moving left slowly on a black background"], [1], frames=4, resolution=24)
    assert video.shape == (1, 4, 3, 24, 24)
