"""Frame autoencoder: 4x spatial reduction to 4 channels at every supported resolution, stored
latent scale, shipped checkpoint quality, latent cache."""

from __future__ import annotations

import pytest
import torch

from vbench_lite.methods.backbone.autoencoder import load_autoencoder, psnr_uint8
from vbench_lite.methods.backbone.latents import encoded_clips
from vbench_lite.methods.backbone.tiny import randomize, tiny_autoencoder


@pytest.mark.parametrize("res", [24, 32, 48, 64])
def test_latent_shapes_at_every_resolution(res):
    ae = tiny_autoencoder()
    video = torch.randint(0, 256, (2, 3, 3, res, res), dtype=torch.uint8)
    with torch.no_grad():
        z = ae.encode_video(video)
        assert z.shape == (2, 4, 3, res // 4, res // 4)
        back = ae.decode_video(z)
    assert back.shape == video.shape and back.dtype == torch.uint8


def test_resolution_not_divisible_by_four_is_refused():
    with pytest.raises(ValueError, match="divisible by 4"):
        tiny_autoencoder().encode_video(torch.zeros(1, 1, 3, 30, 30, dtype=torch.uint8))


def test_psnr_by_hand():
    a = torch.zeros(10, dtype=torch.uint8)
    b = a.clone()
    b[0] = 10  # mse = 100 / 10 = 10
    assert psnr_uint8(a, b) == pytest.approx(10 * torch.log10(torch.tensor(255.0**2 / 10)).item(), rel=1e-6)
    assert psnr_uint8(a, a) == float("inf")


def test_shipped_autoencoder_reconstructs_held_out_frames_and_has_unit_latents():
    from vbench_lite.suites.shapes import ShapesSuite

    ae, sha = load_autoencoder()
    assert len(sha) == 64 and float(ae.latent_scale) != 1.0
    suite = ShapesSuite()
    video = suite.render(suite.items("validation", 64))
    with torch.no_grad():
        z = ae.encode_video(video)
        recon = ae.decode_video(z)
    assert psnr_uint8(recon, video) >= 30.0
    assert 0.7 < z.std().item() < 1.3 and abs(z.mean().item()) < 0.3


def test_latent_cache_is_keyed_by_content_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("VBENCH_LITE_CACHE", str(tmp_path))
    ae = randomize(tiny_autoencoder(), std=0.1)
    a = encoded_clips(ae, "sha-a", 3, chunk=2)
    assert a.latents.shape == (3, 4, 16, 8, 8) and len(a.prompts) == 3
    files = list((tmp_path / "latents").iterdir())
    assert len(files) == 1
    # a second call reads the cache: the encoder is not run again
    calls = []
    hook = ae.encoder.register_forward_hook(lambda *x: calls.append(1))
    b = encoded_clips(ae, "sha-a", 3)
    hook.remove()
    assert not calls and torch.equal(a.latents, b.latents) and a.prompts == b.prompts
    # another autoencoder hash is another cache entry
    encoded_clips(ae, "sha-b", 3)
    assert len(list((tmp_path / "latents").iterdir())) == 2
