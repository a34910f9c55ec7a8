"""The shipped checkpoints give bit-identical videos across refactors of the backbone.

``tests/data/shipped_video_hashes.json`` holds the SHA-256 of each uint8 video ``[T, C, H, W]`` of
the first 16 ``eval`` prompts, recorded with the code of commit 4ac6223 (before the backbone became
a method library, issue 14). CPU kernels differ between instruction sets, so the hashes are
compared only on the kind of CPU and torch version they were recorded with.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from vbench_lite import load_method
from vbench_lite.spec import GenerationSpec
from vbench_lite.suites.shapes import ShapesSuite

RECORD = json.loads((Path(__file__).parent / "data" / "shipped_video_hashes.json").read_text())
SAME_PLATFORM = (torch.__version__ == RECORD["recorded_with"]["torch"]
                 and torch.backends.cpu.get_cpu_capability() == RECORD["recorded_with"]["cpu_capability"])


@pytest.mark.skipif(not SAME_PLATFORM, reason=f"video hashes were recorded with {RECORD['recorded_with']}")
@pytest.mark.parametrize("name", ["baseline", "tpdiff", "tpdiff:no-align"])
def test_shipped_checkpoint_videos_are_bit_identical(name: str) -> None:
    items = ShapesSuite().items(RECORD["split"], RECORD["num_videos"])
    assert [it.seed for it in items] == RECORD["seeds"]
    method = load_method(name)
    method.load("cpu")
    videos = method.generate([it.prompt for it in items], [it.seed for it in items], GenerationSpec())
    got = [hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest() for v in videos]
    assert got == RECORD["videos_sha256"][name]
