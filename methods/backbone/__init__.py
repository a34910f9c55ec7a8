"""The shared latent video-diffusion backbone every built-in method builds on (a library: no
method imports another method's package): frame autoencoder (:mod:`.autoencoder`), space-time UNet
with the architecture as data (:mod:`.unet`, :mod:`.layers`), physical pruning (:mod:`.prune`),
width slicing (:mod:`.slicing`), the shared multi-frame discriminator (:mod:`.discriminator`),
caption encoder (:mod:`.text`), the flow-matching objective (:mod:`.flow`) and sampler object
(:mod:`.sampler`), batch-invariant generation (:mod:`.pipeline`), cached training latents
(:mod:`.latents`), one trainer for every method (:mod:`.trainer`, :mod:`.flow_task`), the shared
training recipe and checkpoint exporter (:mod:`.recipe`), the generic method adapter
(:mod:`.adapter`), and verified safetensors checkpoints (:mod:`.checkpoint`)."""
