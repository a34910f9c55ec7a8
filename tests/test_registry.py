from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from vbench_lite.method import MethodAdapter
from vbench_lite.registry import DuplicateNameError, Registry, UnknownNameError, split_name


class Base:
    pass


class Good(Base):
    """A good entry."""


def test_register_and_build() -> None:
    reg: Registry[Base] = Registry("widget", Base)
    reg.register("good", Good)
    assert reg.names() == ["good"]
    assert isinstance(reg.build("good"), Good)
    assert reg.describe("good") == "A good entry."
    assert reg.entry("good").origin == "built-in"


def test_decorator_registration() -> None:
    reg: Registry[Base] = Registry("widget", Base)

    @reg.register("deco")
    class Deco(Base):
        pass

    assert reg.get("deco") is Deco


def test_duplicate_name_refused() -> None:
    reg: Registry[Base] = Registry("widget", Base)
    reg.register("good", Good)
    with pytest.raises(DuplicateNameError, match="already registered"):
        reg.register("good", Good)


def test_wrong_base_class_refused() -> None:
    reg: Registry[Base] = Registry("widget", Base)

    class Other:
        pass

    with pytest.raises(TypeError, match="not a subclass of Base"):
        reg.register("other", Other)


def test_unknown_name_did_you_mean() -> None:
    reg: Registry[Base] = Registry("method", Base)
    reg.register("baseline", Good)
    reg.register("tpdiff", Good)
    with pytest.raises(UnknownNameError) as info:
        reg.get("tpdif")
    msg = str(info.value)
    assert "Did you mean 'tpdiff'" in msg
    assert "baseline, tpdiff" in msg


def test_invalid_names_refused() -> None:
    reg: Registry[Base] = Registry("widget", Base)
    for bad in ("Upper", "with:colon", "", " pad"):
        with pytest.raises(ValueError):
            reg.register(bad, Good)


def test_lazy_target_imported_on_first_use() -> None:
    reg: Registry[object] = Registry("thing", None)
    mod = "vbench_lite_lazy_probe_mod"
    sys.modules.pop(mod, None)
    reg.register("probe", f"{mod}:VALUE", description="a probe")
    assert not reg.entry("probe").loaded
    assert mod not in sys.modules  # listing and describing did not import it
    assert reg.describe("probe") == "a probe"
    assert mod not in sys.modules


def test_broken_lazy_target_names_the_entry() -> None:
    reg: Registry[object] = Registry("thing", None)
    reg.register("broken", "no_such_module_xyz:Thing")
    with pytest.raises(ImportError, match="thing 'broken' could not be loaded"):
        reg.get("broken")


def _fake_dist(root: Path, dist: str, group: str, entries: dict[str, str]) -> None:
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}\n")


def test_plugin_discovered_through_fake_dist_info(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "fake_plugin_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent(
            '''
            from vbench_lite.method import MethodAdapter

            class FakeMethod(MethodAdapter):
                """A third-party method found through an entry point."""
                name = "fake"
                def load(self, device="cpu"): pass
                def generate(self, prompts, seeds, spec): raise RuntimeError
                def describe(self): return {}
            '''
        )
    )
    _fake_dist(
        tmp_path,
        "fake_plugin",
        "vbench_lite.test_methods",
        {"fake": "fake_plugin_pkg:FakeMethod", "broken": "fake_plugin_pkg:DoesNotExist", "Bad Name": "x:y"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg: Registry[MethodAdapter] = Registry("method", MethodAdapter, group="vbench_lite.test_methods")
    assert "fake" in reg.names()
    assert reg.entry("fake").origin == "plugin (fake_plugin)"
    cls = reg.get("fake")
    assert cls.__name__ == "FakeMethod"
    assert "third-party" in reg.describe("fake")
    # an invalid name is reported and skipped, not fatal
    assert "Bad Name" in reg.errors
    # a broken target is reported when used, naming the plugin
    with pytest.raises(ImportError, match="broken"):
        reg.get("broken")
    assert reg.describe("broken").startswith("(broken:")


def test_split_name() -> None:
    assert split_name("sned:s-32") == ("sned", "s-32")
    assert split_name("baseline") == ("baseline", None)
    for bad in ("", "sned:", ":x", "sned:S_32"):
        with pytest.raises(ValueError):
            split_name(bad)


def test_public_api_unknown_method() -> None:
    import vbench_lite

    with pytest.raises(UnknownNameError, match="unknown method 'nope'"):
        vbench_lite.load_method("nope")
    assert "shapes" in vbench_lite.list_suites()
