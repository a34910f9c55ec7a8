from __future__ import annotations

import subprocess
import sys

import pytest

from vbench_lite.cli import main


def test_list_suites(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "suites"]) == 0
    out = capsys.readouterr().out
    assert "shapes" in out and "built-in" in out


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["list", "suites", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in data["suites"]] == ["prompts", "shapes"]


def test_bad_usage_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["list", "nonsense"])
    assert info.value.code == 2
    assert main([]) == 2


def test_list_does_not_import_torch_for_suites() -> None:
    code = "import sys; from vbench_lite.cli import main; main(['list', 'suites']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
