"""The shared latent video-diffusion backbone every built-in method builds on: frame autoencoder
(:mod:`.autoencoder`), space-time UNet (:mod:`.unet`, :mod:`.layers`), caption encoder (:mod:`.text`),
flow matching and samplers (:mod:`.flow`), batch-invariant generation (:mod:`.pipeline`), cached
training latents (:mod:`.latents`) and one trainer for every method (:mod:`.trainer`,
:mod:`.flow_task`), with verified safetensors checkpoints (:mod:`.checkpoint`)."""
