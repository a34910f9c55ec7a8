"""The named subnets of the SNED supernet (``sned:<size>-<resolution>``).

Picked from the Pareto front (GFLOPs per video against KVD on the ``validation`` split, 32 videos)
of each resolution that ``benchmarks/sned_pareto.py`` measured on the shipped supernet (the
2000-step, teacher-distilled weights; search of 2026-12-01, ``benchmarks/results/sned_pareto.md``), by
:func:`vbench_lite.methods.sned.search.pick_presets`: ``l`` the dearest front point (the best
quality), ``s`` the cheapest, ``m`` the front point nearest their geometric-mean cost; a resolution
whose front has fewer points names fewer sizes. A preset may skip blocks. The benchmark prints the
picks beside these and says whether they still agree (``benchmarks/results/sned_pareto.md``).
"""

from __future__ import annotations

from vbench_lite.methods.backbone.recipe import UNET
from vbench_lite.methods.sned.search_space import SearchSpace, SubnetArch

SPACE = SearchSpace(UNET)
# name: (widths per level, skipped blocks); the resolution is in the name
PICKED: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "s-24": ((8, 24), ("down.0.temporal.0", "down.1.temporal.1", "up.1.xattn.0", "up.1.xattn.1")),
    "m-24": ((12, 36), ("down.0.res.0", "down.1.res.1", "down.1.xattn.0")),
    "l-24": ((16, 48), ("down.0.res.0", "down.0.res.1", "down.1.xattn.0", "up.0.temporal.1")),
    "s-32": ((8, 24), ("down.0.res.0", "down.0.temporal.0", "up.0.res.0", "up.0.res.1")),
    "m-32": ((12, 36), ("down.0.res.1", "up.0.res.1", "up.0.temporal.0", "up.0.temporal.1")),
    "l-32": ((16, 48), ("down.0.res.0", "mid.res.0", "up.1.res.1")),
    "s-48": ((8, 24), ("down.0.res.0",)),
    "m-48": ((8, 24), ()),
    "l-48": ((12, 36), ()),
}
PRESETS: dict[str, SubnetArch] = {
    name: SPACE.check(SubnetArch(widths, skip, int(name.split("-")[1]))) for name, (widths, skip) in PICKED.items()
}
