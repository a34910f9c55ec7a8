"""The real-scale table: each method's recipe projected onto each shipped architecture.

Rows per architecture, all at the pipeline's default frames, resolution and step count:
``baseline`` (the pipeline's own schedule), ``tpdiff`` (the TPDiff method's stages, rescaled to the
pipeline's step count, with the pipeline's CFG setting), and the projections of
:mod:`~vbench_lite.profile.real_scale.transforms` (SnapGen-V, VDMini, SNED). The projected speedup is
the FLOP ratio baseline / row per video; the papers' reported speedups sit beside it; the measured
GPU column stays empty unless a measurement exists (never invented).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vbench_lite.profile.real_scale.architecture import Architecture, list_architectures, load_architecture
from vbench_lite.profile.real_scale.projection import RealScaleProfile, project
from vbench_lite.profile.real_scale.schedule import SamplingSchedule
from vbench_lite.profile.real_scale.transforms import (
    snapgen_v_schedule,
    sned_architecture,
    vdmini_architecture,
)

# (method, architecture) -> (reported speedup, where). Latency ratios on GPUs, as the papers state them.
PAPER_SPEEDUPS: dict[tuple[str, str], tuple[float, str]] = {
    ("tpdiff", "wan2.1-t2v-1.3b"): (1.82, "TPDiff (arXiv 2503.09566, later version): Wan-1.3B 50.52 s -> 27.76 s"),
    ("tpdiff", "animatediff-sd15"): (1.49, "TPDiff (arXiv 2503.09566): AnimateDiff"),
    ("vdmini", "hunyuanvideo"): (1.25, "VDMini (arXiv 2411.18375 v3): HunyuanVideo, average"),
}
# Reported speedups on architectures without a shipped configuration.
PAPER_ONLY: tuple[tuple[str, str, float, str], ...] = (
    ("tpdiff", "MiniFlux-vid", 1.71, "TPDiff (arXiv 2503.09566); MiniFlux-vid has no public config.json to ship"),
    ("vdmini", "T2V-Turbo-v2 (VideoCrafter2 UNet)", 1.4,
     "VDMini (arXiv 2411.18375); VideoCrafter2's UNet is not a diffusers class; animatediff-sd15 is the nearest shipped UNet"),
    ("vdmini", "SF-V (I2V)", 2.5, "VDMini (arXiv 2411.18375); image-to-video, 1-step SF-V, VAE decoder also pruned"),
)
SNAPGEN_V_NOTE = ("SnapGen-V (arXiv 2412.10494) reports its own mobile model against 50-step CFG baselines, "
                  "not a speedup of these architectures; the row projects its 4-step, CFG-free schedule only")
SNED_MULTIPLIERS = ((0.5, 1.0), (1.0, 0.5))


@dataclass(frozen=True)
class Row:
    architecture: str
    method: str
    change: str
    profile: RealScaleProfile | None
    baseline_total: int
    paper: tuple[float, str] | None = None
    note: str = ""

    @property
    def projected_speedup(self) -> float | None:
        return self.baseline_total / self.profile.total if self.profile else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture, "method": self.method, "change": self.change,
            "projected_flop_speedup": self.projected_speedup,
            "paper_speedup": self.paper[0] if self.paper else None,
            "paper_source": self.paper[1] if self.paper else None,
            "measured_gpu_speedup": None,
            "note": self.note,
            "profile": self.profile.to_dict() if self.profile else None,
        }


def native_schedule(arch: Architecture) -> SamplingSchedule:
    s = arch.sampling
    return SamplingSchedule.single(int(s["steps"]), bool(s["cfg"]), label="baseline (pipeline default)")


def _blocks_for(arch: Architecture, base: RealScaleProfile, speedup: float) -> str:
    """How many of a DiT's (last-kind) blocks a pure depth cut must remove to reach ``speedup``."""
    cfg = arch.denoiser["config"]
    key = "num_single_layers" if "num_single_layers" in cfg else "num_layers"
    fewer = arch.with_denoiser_config({**cfg, key: cfg[key] - 1}, f"{key} - 1")
    per_block = base.total - project(fewer, base.schedule).total
    needed = math.ceil(base.total * (1 - 1 / speedup) / per_block)
    blocks = cfg.get("num_layers", 0) + cfg.get("num_single_layers", 0)
    return (f"a DiT has one resolution and no shallow levels; reaching {speedup:g}x by depth alone means removing "
            f"{needed} of its {cfg[key]} {key.replace('num_', '').replace('_', ' ')} ({needed / blocks:.0%} of {blocks} blocks)")


def rows_for(arch: Architecture, tpdiff: SamplingSchedule) -> list[Row]:
    base_sched = native_schedule(arch)
    base = project(arch, base_sched)
    steps, cfg = base_sched.steps, base_sched.cfg
    rows = [Row(arch.name, "baseline", base_sched.describe(), base, base.total)]

    tp = tpdiff.with_steps(steps).with_cfg(cfg)
    rows.append(Row(arch.name, "tpdiff", f"{tp.describe()} (the tpdiff method's stages at {steps} steps)",
                    project(arch, tp), base.total, PAPER_SPEEDUPS.get(("tpdiff", arch.name))))

    sg = snapgen_v_schedule()
    rows.append(Row(arch.name, "snapgen-v (projection)", sg.describe(), project(arch, sg), base.total, None, SNAPGEN_V_NOTE))

    vd = vdmini_architecture(arch)
    paper = PAPER_SPEEDUPS.get(("vdmini", arch.name))
    if vd is None:
        note = _blocks_for(arch, base, paper[0]) if paper else "a DiT has one resolution and no shallow levels: not applicable"
        rows.append(Row(arch.name, "vdmini (projection)", "n/a: no levels", None, base.total, paper, note))
    else:
        rows.append(Row(arch.name, "vdmini (projection)", vd.changes[-1], project(vd, base_sched), base.total, paper))

    for width, depth in SNED_MULTIPLIERS:
        sn = sned_architecture(arch, width, depth)
        rows.append(Row(arch.name, f"sned w{width:g} d{depth:g} (projection)", sn.changes[-1], project(sn, base_sched), base.total))
    return rows


def real_scale_table(tpdiff: SamplingSchedule, architectures: list[str] | None = None) -> list[Row]:
    rows: list[Row] = []
    for name in architectures or list_architectures():
        rows += rows_for(load_architecture(name), tpdiff)
    return rows


def _p(x: int) -> str:
    return f"{x / 1e15:,.3f}"


def measured_speedups(report: dict[str, Any]) -> dict[tuple[str, str], float]:
    """``{(architecture, method): speedup}`` from ``benchmarks/real_scale_gpu.py``'s report; a smoke
    test (shrunk models) or a run at other sizes than the table's is refused, never mixed in."""
    if report.get("schema") != "vbench_lite.real_scale_gpu/1":
        raise ValueError(f"not a real-scale GPU report (schema {report.get('schema')!r})")
    if report.get("depth_multiplier", 1.0) != 1.0:
        raise ValueError("this GPU report timed shrunk models (a smoke test); its speedups do not belong in the table")
    out: dict[tuple[str, str], float] = {}
    for name, arch in report["architectures"].items():
        s = load_architecture(name).sampling
        if (arch["frames"], arch["height"], arch["width"]) != (s["frames"], s["height"], s["width"]):
            raise ValueError(f"the GPU report timed {name} at {arch['frames']}x{arch['height']}x{arch['width']}, "
                             f"the table projects {s['frames']}x{s['height']}x{s['width']}")
        out.update({(name, r["method"]): float(r["measured_speedup"]) for r in arch["rows"]})
    return out


def render_markdown(rows: list[Row], measured: dict[tuple[str, str], float] | None = None) -> str:
    head = ("| architecture | method | change | PFLOP / video | text / denoise / decode | attention share "
            "| projected speedup (FLOP ratio) | paper speedup | measured GPU speedup | note |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        if r.profile:
            st, tot = r.profile.by_stage, r.profile.total
            shares = " / ".join(f"{st[k] / tot:.1%}" for k in ("text", "denoise", "decode"))
            cells = [_p(tot), shares, f"{r.profile.attention / tot:.0%}", f"{r.projected_speedup:.2f}x"]
        else:
            cells = ["", "", "", "n/a"]
        paper = f"{r.paper[0]:g}x" if r.paper else ""
        note = r.note or (r.paper[1] if r.paper else "")
        got = (measured or {}).get((r.architecture, r.method))
        gpu = f"{got:.2f}x" if got is not None else ""
        lines.append(f"| {r.architecture} | {r.method} | {r.change} | " + " | ".join(cells) + f" | {paper} | {gpu} | {note} |")
    for method, arch, speed, where in PAPER_ONLY:
        lines.append(f"| {arch} | {method} | not shipped |  |  |  | n/a | {speed:g}x |  | {where} |")
    return "\n".join(lines) + "\n"
