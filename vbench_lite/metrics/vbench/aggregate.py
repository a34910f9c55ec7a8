"""Normalisation constants and the Quality / Semantic / Total aggregation ("VBench-lite").

Follows VBench ``scripts/cal_final_score.py`` with ``scripts/constant.py``: each dimension is
min-max normalised, (x - Min) / (Max - Min), not clipped, and multiplied by its weight (dynamic
degree 0.5, every other dimension 1); Quality = sum of weighted quality dimensions / sum of their
weights, Semantic likewise over the semantic dimensions, Total = (4 Quality + 1 Semantic) / 5.

Constants: VBench's own ``NORMALIZE_DIC`` where the dimension runs on VBench's backbone (or on
none: temporal flickering, and the 0/1 detector dimensions); constants calibrated on the suite
(``assets/vbench_lite_constants.json``, see ``calibrate.py``) where it runs on an embedded one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUALITY_DIMENSIONS = (
    "subject_consistency",
    "background_consistency",
    "temporal_flickering",
    "motion_smoothness",
    "dynamic_degree",
)
SEMANTIC_DIMENSIONS = (
    "object_class",
    "multiple_objects",
    "color",
    "spatial_relationship",
    "motion_direction",
    "overall_consistency",
)
DIMENSIONS = QUALITY_DIMENSIONS + SEMANTIC_DIMENSIONS

# VBench scripts/constant.py DIM_WEIGHT (motion_direction is ours: weight 1 like the others).
DIM_WEIGHT = {d: 1.0 for d in DIMENSIONS} | {"dynamic_degree": 0.5}
QUALITY_WEIGHT, SEMANTIC_WEIGHT = 4.0, 1.0

# VBench scripts/constant.py NORMALIZE_DIC, for the backbone each was measured with.
VBENCH_CONSTANTS: dict[str, tuple[float, float, str]] = {
    "subject_consistency": (0.1462, 1.0, "dino-vit-b-16"),
    "background_consistency": (0.2615, 1.0, "vit-b-32:full"),  # CLIP ViT-B/32 on whole frames
    "temporal_flickering": (0.6293, 1.0, "pixels"),
    "motion_smoothness": (0.706, 0.9975, "amt-s"),
    "dynamic_degree": (0.0, 1.0, "raft"),
    "object_class": (0.0, 1.0, "detector"),
    "multiple_objects": (0.0, 1.0, "detector"),
    "color": (0.0, 1.0, "detector"),
    "spatial_relationship": (0.0, 1.0, "detector"),
    "motion_direction": (0.0, 1.0, "detector"),
    "overall_consistency": (0.0, 0.364, "viclip"),
}
VBENCH_SOURCE = "VBench scripts/constant.py NORMALIZE_DIC"

CALIBRATED_FILE = Path(__file__).resolve().parent.parent.parent / "assets" / "vbench_lite_constants.json"


@dataclass(frozen=True)
class Constant:
    """Min-max constants of one dimension and where they come from."""

    min: float
    max: float
    source: str
    backbone: str

    def normalise(self, value: float) -> float:
        return (value - self.min) / (self.max - self.min)

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "source": self.source, "backbone": self.backbone}


def load_calibrated(path: str | Path | None = None) -> dict[str, Any]:
    p = Path(path) if path else CALIBRATED_FILE
    if not p.is_file():
        raise FileNotFoundError(
            f"calibrated VBench-lite constants not found at {p}; "
            "regenerate them with `python -m vbench_lite.metrics.vbench.calibrate`"
        )
    return json.loads(p.read_text())


def constant_for(dimension: str, backbone: str, calibrated: dict[str, Any] | None = None) -> Constant:
    """The constants of ``dimension`` measured with ``backbone`` (a backbone id as recorded in the
    protocol, e.g. ``dino-vit-b-16``, ``shapes-clip:object``, ``farneback``).

    ``calibrated``: the calibrated constants to use; ``None`` loads the shipped file, an empty
    dict means none (the real protocol: only VBench's constants apply)."""
    if dimension not in VBENCH_CONSTANTS:
        raise ValueError(f"unknown VBench-lite dimension {dimension!r}; known: {', '.join(DIMENSIONS)}")
    lo, hi, vb_backbone = VBENCH_CONSTANTS[dimension]
    if backbone == vb_backbone or vb_backbone in ("pixels", "detector") or dimension == "dynamic_degree":
        # flickering needs no network; 0/1 dimensions and dynamic degree span [0, 1] by definition
        return Constant(lo, hi, VBENCH_SOURCE, backbone)
    if calibrated is None:
        calibrated = load_calibrated()
    cal = calibrated.get("dimensions", {}).get(dimension)
    if cal and cal.get("backbone") == backbone:
        return Constant(float(cal["min"]), float(cal["max"]), str(cal["source"]), backbone)
    # A real-protocol dimension on a stand-in network (Farneback for AMT-S, CLIP for ViCLIP): the
    # VBench constants are the closest available; the source says so.
    return Constant(lo, hi, f"{VBENCH_SOURCE} (measured there with {vb_backbone}, applied to {backbone})", backbone)


def aggregate_dimensions(values: dict[str, float], constants: dict[str, Constant]) -> dict[str, float | None]:
    """Quality, Semantic and Total from per-dimension means (VBench ``cal_final_score.py``).

    Only the dimensions present in ``values`` (finite) count; Total needs both parts.
    """
    def part(dims: tuple[str, ...]) -> float | None:
        present = [d for d in dims if d in values and math.isfinite(values[d])]
        if not present:
            return None
        num = sum(constants[d].normalise(values[d]) * DIM_WEIGHT[d] for d in present)
        return num / sum(DIM_WEIGHT[d] for d in present)

    quality, semantic = part(QUALITY_DIMENSIONS), part(SEMANTIC_DIMENSIONS)
    total = None
    if quality is not None and semantic is not None:
        total = (QUALITY_WEIGHT * quality + SEMANTIC_WEIGHT * semantic) / (QUALITY_WEIGHT + SEMANTIC_WEIGHT)
    return {"quality": quality, "semantic": semantic, "total": total}
