"""Shared test set-up: a private cache folder, one torch thread, and the test plugin on sys.path.

``tests/plugins`` holds ``toy_plugin`` with a ``.dist-info`` folder, so the registries discover its
method and metric through entry points exactly as they would an installed third-party plugin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

PLUGINS = Path(__file__).parent / "plugins"
sys.path.insert(0, str(PLUGINS))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session gets its own cache folder, never the user's ~/.cache/vbench_lite."""
    monkeypatch.setenv("VBENCH_LITE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
