"""Shared test set-up: a private cache folder and one torch thread per test process."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test session gets its own cache folder, never the user's ~/.cache/vbench_lite."""
    monkeypatch.setenv("VBENCH_LITE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
