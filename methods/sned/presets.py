"""The named subnets of the SNED supernet (``sned:<size>-<resolution>``).

Sizes are uniform width multipliers of the supernet (OFA's elastic width): ``s`` 0.5, ``m`` 0.75,
``l`` 1.0 (the whole supernet), no skipped block, at 24, 32 and 48 px. ``benchmarks/sned_pareto.py``
measures where each lies against the Pareto front of the searched candidates.
"""

from __future__ import annotations

from vbench_lite.methods.backbone.recipe import UNET
from vbench_lite.methods.sned.search_space import RESOLUTIONS, SearchSpace, SubnetArch

SIZES = {"s": 0.5, "m": 0.75, "l": 1.0}
SPACE = SearchSpace(UNET)
PRESETS: dict[str, SubnetArch] = {
    f"{size}-{res}": SPACE.uniform(mult, res) for res in RESOLUTIONS for size, mult in SIZES.items()
}
