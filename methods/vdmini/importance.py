"""VDMini step 1: block importance (Wu et al., arXiv 2411.18375, Sec. 3.2).

For every named, shape-preserving block of the teacher UNet (ResBlocks, temporal layers,
cross-attention) the block is skipped (made the identity) and the teacher's videos for a fixed set
of ``validation`` prompts and seeds are generated again; what the skip does to the per-frame
content measures (FVD, KVD) and to the motion measures (``dynamic_degree``, ``motion_direction``,
``motion_smoothness``) is that block's importance, beside the FLOPs and the latency it saves. The
paper's observation is that the deep (low-resolution) blocks carry motion dynamics and the shallow
(high-resolution) ones the individual frames' content; :func:`depth_summary` tests that here.

The videos of a skipped model use the same prompts and seeds as the teacher's, so every delta is
paired. Metric values are deterministic; latency is measured, so it moves with the machine's load.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from vbench_lite.method import MethodAdapter

if TYPE_CHECKING:
    import torch

    from vbench_lite.spec import GenerationSpec

logger = logging.getLogger(__name__)

FORMAT = "vbench_lite.vdmini.importance/1"
CONTENT = ("fvd", "kvd")  # lower is better
MOTION = ("vbench_dynamic_degree", "vbench_motion_direction", "vbench_motion_smoothness")
TEACHER = "teacher"  # the checkpoint key of the unpruned model's row


class SkippedBlocks(MethodAdapter):
    """The teacher (a registered method, ``baseline`` by default) with named blocks skipped.

    Composition, not inheritance: the teacher is built through the method registry and its
    generator's ``skip`` set is filled in, so the probe shares every line of its sampling code.
    Its name carries the skipped blocks, so the run cache keeps its videos apart from the teacher's.
    """

    name: ClassVar[str] = "vdmini-skip"
    version: ClassVar[str] = "1"

    def __init__(self, skip: Iterable[str] = (), teacher: str = "baseline") -> None:
        super().__init__(None)
        self.skip = tuple(sorted(skip))
        self.teacher_name = teacher
        self.teacher: Any = None

    @property
    def full_name(self) -> str:
        return f"{self.teacher_name}[skip={','.join(self.skip)}]"

    def load(self, device: str = "cpu") -> None:
        import vbench_lite

        self.teacher = vbench_lite.load_method(self.teacher_name)
        self.teacher.load(device)
        gen = self.teacher.generator
        gen.model.unet.check_skip(self.skip)
        gen.skip = self.skip

    def generate(self, prompts: list[str], seeds: list[int], spec: GenerationSpec) -> torch.Tensor:
        return self.teacher.generate(prompts, seeds, spec)

    def describe(self) -> dict[str, Any]:
        return {**self.teacher.describe(), "method": self.full_name, "skip": list(self.skip)}

    def denoiser(self) -> tuple[Any, tuple[Any, ...]]:
        return self.teacher.denoiser()


@dataclass(frozen=True)
class BlockRow:
    """One skipped block: where it sits, what it costs, what skipping it does."""

    block: str
    kind: str  # res | temporal | xattn
    side: str  # down | mid | up
    level: int  # resolution level, 0 = full latent resolution; mid = the deepest level
    params: int
    flops_saved: float  # fraction of one denoiser call's FLOPs
    latency_saved: float  # fraction of one denoiser call's median latency (paired, noisy)
    metrics: dict[str, float]  # the skipped model's values
    metric_std: dict[str, float]  # bootstrap std where the metric gives one (FVD, KVD)

    @staticmethod
    def locate(block: str, levels: int) -> tuple[str, int, str]:
        """``down.1.res.0`` -> (``down``, 1, ``res``); ``mid.res.0`` -> (``mid``, ``levels - 1``, ``res``)."""
        parts = block.split(".")
        if parts[0] == "mid":
            return "mid", levels - 1, parts[1]
        return parts[0], int(parts[1]), parts[2]


def block_costs(unet: torch.nn.Module, inputs: tuple[Any, ...], blocks: list[str]) -> dict[str, float]:
    """Fraction of one denoiser call's FLOPs that skipping each block removes (exact count)."""
    from vbench_lite.profile import count_flops

    total = count_flops(lambda: unet(*inputs)).total
    return {b: 1.0 - count_flops(lambda b=b: unet(*inputs, skip={b})).total / total for b in blocks}


def paired_latency_saved(
    fn: Callable[[tuple[str, ...]], object], blocks: list[str], rounds: int = 7
) -> dict[str, float]:
    """Fraction of the full call's median time saved by skipping each block.

    The full call and each skipped call alternate round by round, so a change in the machine's load
    hits both sides; the ratio of the two medians is reported (a shared machine makes it noisy).
    """
    fn(())  # warm-up
    out = {}
    for b in blocks:
        full, part = [], []
        fn((b,))
        for _ in range(rounds):
            for skip, runs in (((), full), ((b,), part)):
                start = time.perf_counter()
                fn(skip)
                runs.append(time.perf_counter() - start)
        out[b] = 1.0 - statistics.median(part) / statistics.median(full)
        logger.info("latency saved by skipping %s: %.3f", b, out[b])
    return out


def _values(result: Any) -> tuple[dict[str, float], dict[str, float]]:
    vals, std = {}, {}
    for k in (*CONTENT, *MOTION):
        m = result.metrics[k]
        vals[k] = float(m.value)
        if m.std is not None:
            std[k] = float(m.std)
    return vals, std


def measure_block_importance(
    checkpoint: str | Path,
    *,
    teacher: str = "baseline",
    split: str = "validation",
    num_videos: int = 128,
    blocks: list[str] | None = None,
    latency_rounds: int = 7,
    device: str = "cpu",
) -> dict[str, Any]:
    """Measure (or resume measuring) every block's importance; the table is saved to ``checkpoint``
    after each block, and a finished table is returned as is."""
    import torch

    import vbench_lite
    from vbench_lite.fsutil import atomic_write_json

    checkpoint = Path(checkpoint)
    probe = SkippedBlocks((), teacher)
    probe.load(device)
    unet, inputs = probe.denoiser()
    names = blocks or unet.skippable_blocks()
    protocol = {"teacher": teacher, "weights_sha256": probe.describe()["weights_sha256"], "split": split,
                "num_videos": num_videos, "metrics": [*CONTENT, *MOTION]}
    table: dict[str, Any] = {"format": FORMAT, "protocol": protocol, "rows": {}}
    if checkpoint.is_file():
        old = json.loads(checkpoint.read_text())
        if old.get("protocol") != protocol:
            raise ValueError(f"{checkpoint} was measured under another protocol ({old.get('protocol')}); "
                             "delete it or give another checkpoint path")
        table = old
    rows = table["rows"]
    if "costs" not in table:
        with torch.no_grad():
            flops = block_costs(unet, inputs, names)
            latency = paired_latency_saved(lambda skip: unet(*inputs, skip=skip), names, latency_rounds)
        table["costs"] = {b: {"flops_saved": flops[b], "latency_saved": latency[b]} for b in names}
        table["denoiser_params"] = sum(p.numel() for p in unet.parameters())
        atomic_write_json(checkpoint, table)
    levels = table["levels"] = len(unet.config.widths)
    # Shallowest level first: those rows are all the pruning rule needs (see :mod:`.pruning`).
    todo = sorted(names, key=lambda b: (BlockRow.locate(b, levels)[1], names.index(b)))
    for b in [TEACHER, *todo]:
        if b in rows:
            continue
        t0 = time.perf_counter()
        adapter = SkippedBlocks(() if b == TEACHER else (b,), teacher)
        res = vbench_lite.evaluate_method(adapter, split=split, num_videos=num_videos,
                                          metrics=("fvd", "kvd", "vbench"), device=device)
        vals, std = _values(res)
        if b == TEACHER:
            rows[b] = {"metrics": vals, "metric_std": std}
        else:
            side, level, kind = BlockRow.locate(b, levels)
            rows[b] = asdict(BlockRow(
                block=b, kind=kind, side=side, level=level,
                params=sum(p.numel() for p in unet.get_submodule(b).parameters()),
                flops_saved=table["costs"][b]["flops_saved"], latency_saved=table["costs"][b]["latency_saved"],
                metrics=vals, metric_std=std,
            ))
        atomic_write_json(checkpoint, table)
        logger.info("block %s measured in %.0f s: %s", b, time.perf_counter() - t0, vals)
    table["rows"] = {b: rows[b] for b in [TEACHER, *names]}  # execution order
    table["complete"] = True
    atomic_write_json(checkpoint, table)
    return table


def scores(table: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per block: ``content`` and ``motion`` importance and their mean ``importance``, in units of
    the teacher's standard error.

    Each measure's degradation (FVD and KVD increase; any change of dynamic degree, whose teacher
    value is the target; a drop of direction match and smoothness) is divided by the standard
    error of the teacher's value (the bootstrap std of FVD/KVD, the standard error of the mean of a
    VBench dimension; at least one video's worth, ``1 / N``, so an all-equal teacher score still
    gives a scale), so the measures weigh alike whatever their units and a block's score does not
    depend on which other blocks were measured; ``content`` averages FVD and KVD, ``motion`` the
    three motion measures.
    """
    ref = table["rows"][TEACHER]["metrics"]
    se = table["rows"][TEACHER]["metric_std"]
    floor = 1.0 / int(table.get("protocol", {}).get("num_videos", 128))

    def degradation(metric: str, value: float) -> float:
        d = value - ref[metric]
        if metric in CONTENT:
            d = max(d, 0.0)
        elif metric == "vbench_dynamic_degree":
            d = abs(d)
        else:
            d = max(-d, 0.0)
        return d / max(se.get(metric, 0.0), floor)

    out = {}
    for b, r in table["rows"].items():
        if b == TEACHER:
            continue
        content = sum(degradation(m, r["metrics"][m]) for m in CONTENT) / len(CONTENT)
        motion = sum(degradation(m, r["metrics"][m]) for m in MOTION) / len(MOTION)
        out[b] = {"content": content, "motion": motion, "importance": (content + motion) / 2}
    return out


def depth_summary(table: dict[str, Any]) -> dict[str, Any]:
    """Mean content and motion importance of the shallow blocks (every level above the deepest)
    and the deep ones (the deepest level and the middle), and whether the paper's observation
    holds: deep blocks carry relatively more motion, shallow ones relatively more content."""
    sc = scores(table)
    deepest = table["levels"] - 1
    groups: dict[str, list[str]] = {"shallow": [], "deep": []}
    for b, r in table["rows"].items():
        if b != TEACHER:
            groups["deep" if r["level"] == deepest else "shallow"].append(b)
    out: dict[str, Any] = {}
    for g, bs in groups.items():
        c = sum(sc[b]["content"] for b in bs) / max(len(bs), 1)
        m = sum(sc[b]["motion"] for b in bs) / max(len(bs), 1)
        out[g] = {"blocks": len(bs), "content": c, "motion": m,
                  "motion_share": m / (c + m) if c + m > 0 else float("nan")}
    out["observation_holds"] = bool(out["deep"]["motion_share"] > out["shallow"]["motion_share"])
    return out


def load_table(path: str | Path) -> dict[str, Any]:
    """A finished importance table (``measure_block_importance``'s output) from a JSON file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no block-importance table at {path}; measure it with "
                                "`python benchmarks/vdmini_importance.py`")
    table = json.loads(path.read_text())
    if table.get("format") != FORMAT or "levels" not in table or TEACHER not in table.get("rows", {}):
        raise ValueError(f"{path} is not a {FORMAT} table; rerun `python benchmarks/vdmini_importance.py`")
    return table


def unmeasured(table: dict[str, Any]) -> list[str]:
    """Blocks whose costs were measured but whose skip was not evaluated yet (an interrupted run)."""
    return [b for b in table.get("costs", {}) if b not in table["rows"]]
