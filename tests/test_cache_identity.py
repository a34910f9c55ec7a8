"""Cache keys are built from identities, code included: a method whose source changes is
re-profiled (and re-generated) even though its name, version and weights stayed the same."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from vbench_lite.fingerprint import package_fingerprint, package_of
from vbench_lite.pipeline import run
from vbench_lite.spec import ProfileOptions, RunSpec

REPO = Path(__file__).resolve().parent.parent

SOURCE = '''
import torch

from vbench_lite.method import MethodAdapter
from vbench_lite.profile import stage

WIDTH = {width}


class FingerprintToy(MethodAdapter):
    """Blank videos after one WIDTH x WIDTH matmul per video (its FLOPs show which code ran)."""

    name = "fingerprint-toy"
    version = "1"

    def load(self, device="cpu"):
        self.device = device

    def generate(self, prompts, seeds, spec):
        with stage("denoise"):
            a = torch.ones(len(prompts), WIDTH, WIDTH)
            b = a @ a
        v = torch.zeros(len(prompts), spec.frames, 3, spec.resolution, spec.resolution, dtype=torch.uint8)
        return v + (b.sum() < 0).to(torch.uint8)

    def describe(self):
        return {{"params": 0, "steps": 1, "nfe": 1, "weights_sha256": None}}
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A method package installed like a plugin (dist-info + entry point), whose code the test edits."""
    site = tmp_path / "site"
    pkg = site / "fingerprint_toy_plugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(SOURCE.format(width=8))
    dist = site / "fingerprint_toy_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fingerprint-toy-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[vbench_lite.methods]\nfingerprint-toy = fingerprint_toy_plugin:FingerprintToy\n")
    monkeypatch.syspath_prepend(str(site))
    # the peak-memory subprocess loads the method by name, as an installed plugin
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(REPO), os.environ.get("PYTHONPATH", "")]))
    from vbench_lite.registries import METHODS

    METHODS.names()
    monkeypatch.setattr(METHODS, "_entries", dict(METHODS._entries))
    if "fingerprint-toy" not in METHODS:  # the entry points were scanned before this test put it there
        METHODS.register("fingerprint-toy", "fingerprint_toy_plugin:FingerprintToy", origin="plugin (test)")
    module = importlib.import_module("fingerprint_toy_plugin")
    yield pkg, module
    sys.modules.pop("fingerprint_toy_plugin", None)


def _profile(module):  # type: ignore[no-untyped-def]
    spec = RunSpec.for_method("fingerprint-toy", num_videos=2, metrics=("toy-mean",), reference_method=None,
                              profile=ProfileOptions(latency=False, batch_size=2))
    return run(spec, adapter=module.FingerprintToy(), progress=False).result.profile


def test_a_code_change_recomputes_the_profile(plugin) -> None:  # type: ignore[no-untyped-def]
    pkg, module = plugin
    first = _profile(module)
    assert first.flops.by_stage["denoise"] == 2 * 8**3  # one 8x8 @ 8x8 per video
    assert _profile(module) == first  # the same code: served from the cache, not re-measured
    before = package_fingerprint("fingerprint_toy_plugin")
    (pkg / "__init__.py").write_text(SOURCE.format(width=16))  # same name, version and weights
    module = importlib.reload(module)
    assert package_fingerprint("fingerprint_toy_plugin") != before
    second = _profile(module)
    assert second.flops.by_stage["denoise"] == 2 * 16**3  # recomputed with the new code, not the stale 1024


def test_packages_of_built_ins_and_plugins() -> None:
    from vbench_lite.metrics.distribution import FVD

    assert package_of(FVD) == "vbench_lite.metrics"
    assert package_of(object()) == "builtins"
    import toy_plugin

    assert package_of(toy_plugin.ToyMethod) == "toy_plugin"
    assert len(package_fingerprint("toy_plugin")) == 64
