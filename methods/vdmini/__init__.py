"""``vdmini``: VDMini, "Individual Content and Motion Dynamics Preserved Pruning for Video Diffusion
Models" (Wu, Chen, Wang, Xu; ACM MM 2025; arXiv 2411.18375).

The paper's idea only, on the shared backbone: block importance (:mod:`.importance`), the pruning
rule (:mod:`.pruning`), and the Individual Content Distillation and Multi-frame Content Adversarial
losses (:mod:`.icmd`).
"""
