"""The reference method is data: ``RunSpec.reference_method`` names it, a run loads it once for
fidelity and the paired latency, the results record it, and the leaderboard takes its reference
row from what the runs recorded. No method name is a literal of the harness's code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import tomllib

from vbench_lite.method import MethodAdapter
from vbench_lite.pipeline import run
from vbench_lite.results import RunResult
from vbench_lite.spec import DEFAULT_REFERENCE_METHOD, ProfileOptions, RunSpec

ROOT = Path(__file__).resolve().parent.parent
FAST = ProfileOptions(repeats=2, batch_size=2, threads=1)


def test_the_spec_carries_the_reference_method() -> None:
    spec = RunSpec(method="toy")
    assert spec.reference_method == DEFAULT_REFERENCE_METHOD and spec.paired_reference == DEFAULT_REFERENCE_METHOD
    assert RunSpec(method="toy", reference_method="toy").paired_reference is None  # itself: timed alone
    other = RunSpec(method="toy", reference_method="toy:dark")
    assert other.content_hash() != spec.content_hash()  # the spec hash covers it
    assert RunSpec.from_dict(other.to_dict()) == other
    # a spec recorded before the move (the paired reference lived on the profile options)
    old = {"method": "toy", "profile": {"enabled": True, "reference": "toy:dark"}}
    assert RunSpec.from_dict(old).reference_method == "toy:dark"
    with pytest.raises(ValueError, match="invalid variant"):
        RunSpec(method="toy", reference_method="toy:Dark")


def test_a_run_loads_its_reference_once_for_fidelity_and_the_paired_latency(monkeypatch, tmp_path) -> None:
    loads: list[str] = []
    original = MethodAdapter.__init__

    def counting(self, *a, **kw):  # type: ignore[no-untyped-def]
        original(self, *a, **kw)
        loads.append(self.full_name)

    monkeypatch.setattr(MethodAdapter, "__init__", counting)
    spec = RunSpec.for_method("toy", num_videos=4, metrics=("fidelity",), reference_method="toy:dark", profile=FAST)
    result = run(spec, out=tmp_path, progress=False, use_cache=False).result
    assert loads.count("toy:dark") == 1 and loads.count("toy") == 1
    assert result.metrics["fidelity_psnr"].protocol["reference"] == "toy:dark video of the same prompt and seed"
    assert result.profile is not None and result.profile.speedup["reference"] == "toy:dark"
    assert RunResult.load(next(tmp_path.rglob("results.json"))).spec["reference_method"] == "toy:dark"


def test_a_run_whose_reference_is_itself_loads_nothing_more(monkeypatch) -> None:
    loads: list[str] = []
    original = MethodAdapter.__init__

    def counting(self, *a, **kw):  # type: ignore[no-untyped-def]
        original(self, *a, **kw)
        loads.append(self.full_name)

    monkeypatch.setattr(MethodAdapter, "__init__", counting)
    spec = RunSpec.for_method("toy", num_videos=2, metrics=("fidelity",), reference_method="toy", profile=FAST)
    result = run(spec, progress=False, use_cache=False).result
    assert loads == ["toy"]
    assert result.metrics["fidelity_psnr"].value == float("inf")  # its own videos: identical
    assert result.profile is not None and result.profile.speedup is None  # timed alone


def test_fidelity_without_a_reference_method_is_an_error() -> None:
    spec = RunSpec.for_method("toy", num_videos=2, metrics=("fidelity",), reference_method=None,
                              profile=ProfileOptions(enabled=False))
    with pytest.raises(ValueError, match="give --reference-method NAME"):
        run(spec, progress=False)


def test_the_leaderboard_takes_the_reference_row_the_runs_recorded(tmp_path: Path) -> None:
    from tests.test_leaderboard_fixtures import make_run, save
    from vbench_lite.leaderboard import collect, table, tables

    root = tmp_path / "results"
    for method in ("tpdiff", "vdmini"):
        run_ = make_run(method, metrics={"fvd": (90.0, 1.0)}, speedup=(2.0, 1.9, 2.1))
        run_.spec["reference_method"] = "tpdiff"
        run_.profile.speedup["reference"] = "tpdiff"
        save(root, run_)
    lb = table.build(collect.latest_eligible(collect.load_runs(root, suite="shapes")), suite="shapes")
    assert lb.baseline_id == "tpdiff" and lb.rows[0].method_id == "tpdiff"
    assert "Speedup: median tpdiff latency" in lb.caption
    assert "| vdmini |" in tables.render_md(lb) and "2.00×" in tables.render_md(lb)
    mixed = make_run("sned", metrics={"fvd": (90.0, 1.0)})  # recorded the default reference
    save(root, mixed)
    with pytest.raises(ValueError, match="different reference methods"):
        table.build(collect.latest_eligible(collect.load_runs(root, suite="shapes")), suite="shapes")


def _method_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = set(project["project"]["entry-points"]["vbench_lite.methods"])
    return names | {n.replace("-", "_") for n in names}


# (file, name): where a method's name is data about that method, with the reason
ALLOWED = {
    ("vbench_lite/spec.py", DEFAULT_REFERENCE_METHOD),  # RunSpec's default reference method
    # check's JSON report: "baseline" is the results file given as --baseline B, not a method
    ("vbench_lite/leaderboard/check.py", "baseline"),
}
# the papers' reported speedups per method and architecture (a table of published numbers)
ALLOWED_FILES = {"vbench_lite/profile/real_scale/table.py"}


def test_no_method_name_is_a_literal_of_the_harness() -> None:
    names = _method_names()
    assert DEFAULT_REFERENCE_METHOD in names
    found = []
    for path in sorted((ROOT / "vbench_lite").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        if rel in ALLOWED_FILES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                if (rel, node.value) not in ALLOWED:
                    found.append(f"{rel}:{node.lineno} {node.value!r}")
    assert not found, f"method names as literals in the harness: {found}"
