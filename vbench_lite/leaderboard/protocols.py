"""The protocol appendix: one row per column with a protocol (what network measured it, on what).

A paper table carries numbers; the records that make them comparable (detector, weights hash,
frames, resolution, sample counts, conventions) go to an appendix table (``leaderboard_protocols.tex``,
the Markdown and HTML pages' "Protocols" table) in a few short fields, and in full to
``leaderboard.json``. :func:`summary` is the one place that picks those fields from a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vbench_lite.leaderboard import fields
from vbench_lite.leaderboard.table import Leaderboard

HASH_PREFIX = 12  # hex digits of a SHA-256 shown in the appendix (the JSON has the whole digest)

# Conventions worth a reader's attention, in the order shown; the rest stays in the JSON record.
_CONVENTIONS = ("covariance_description", "covariance", "kernel", "score", "metric", "per_video",
                "formula", "interpolation", "flow", "measurement")


@dataclass(frozen=True)
class ProtocolSummary:
    column: str  # column key
    label: str  # column label (no arrow)
    version: str
    network: str  # detector or backbone(s)
    weights: str  # SHA-256 prefix(es)
    frames: str
    resolution: str
    samples: str
    conventions: str


def _text(v: Any) -> str:
    return "–" if v is None or v == "" else str(v)


def _network(proto: dict[str, Any]) -> str:
    for key in ("detector", "backbone", "flow"):
        if isinstance(proto.get(key), str):
            return proto[key]
    backbones = proto.get("backbones")  # VBench aggregates: one backbone per dimension
    if isinstance(backbones, dict):
        return ", ".join(sorted({str(b) for b in backbones.values()}))
    if "device" in proto:  # latency: the machine is its instrument
        return fields.describe_latency_setting(proto)
    return "–"


def _weights(proto: dict[str, Any]) -> str:
    w = proto.get("weights_sha256")
    return w[:HASH_PREFIX] if isinstance(w, str) else "–"


def _resolution(proto: dict[str, Any]) -> str:
    r = proto.get("resolution")
    if isinstance(r, dict):
        ref, inp = r.get("reference"), r.get("detector_input")
        if ref is not None and inp is not None and ref != inp:
            return f"{ref} px (detector {inp} px)"
        return f"{ref if ref is not None else inp} px"
    return f"{r} px" if isinstance(r, (int, float)) else "–"


def _samples(proto: dict[str, Any]) -> str:
    gen, ref = proto.get("num_generated"), proto.get("num_reference")
    if gen is not None or ref is not None:
        return f"{_text(gen)} generated / {_text(ref)} real"
    if "batch" in proto:
        return f"batch {proto['batch']}"
    return _text(proto.get("num_videos"))


def _conventions(proto: dict[str, Any]) -> str:
    parts = []
    for key in _CONVENTIONS:
        v = proto.get(key)
        if key == "covariance" and "covariance_description" in proto:
            continue
        if isinstance(v, str) and v:
            parts.append(v)
    if isinstance(proto.get("subsets"), int):
        parts.append(f"{proto['subsets']} subsets of {proto.get('subset_size', '?')}")
    return "; ".join(parts) or "–"


def summary(lb: Leaderboard) -> list[ProtocolSummary]:
    """The appendix rows of ``lb``: every column whose rows share a protocol record."""
    out = []
    for key, proto in lb.protocols.items():
        col = lb.column(key)
        out.append(ProtocolSummary(
            column=key, label=col.label, version=_text(proto.get("version")), network=_network(proto),
            weights=_weights(proto), frames=_text(proto.get("frames")), resolution=_resolution(proto),
            samples=_samples(proto), conventions=_conventions(proto),
        ))
    return out


HEADERS = ("Column", "Version", "Network", "Weights (SHA-256)", "Frames", "Resolution", "Samples", "Conventions")


def cells(s: ProtocolSummary) -> list[str]:
    return [s.label, s.version, s.network, s.weights, s.frames, s.resolution, s.samples, s.conventions]
