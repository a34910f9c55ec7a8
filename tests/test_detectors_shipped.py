"""The shipped shapes-video weights: manifest agrees with the file, held-out accuracy >= 97%."""

from __future__ import annotations

import json

import pytest
import torch

from vbench_lite.fsutil import sha256_file
from vbench_lite.metrics.detectors.shapes_video import (
    MANIFEST_FILE,
    WEIGHTS_FILE,
    assets_dir,
    attribute_labels,
)
from vbench_lite.suites.shapes.vocab import ATTRIBUTE_CLASSES

pytestmark = pytest.mark.skipif(
    not (assets_dir() / WEIGHTS_FILE).is_file(),
    reason=f"shapes-video weights vbench_lite/assets/{WEIGHTS_FILE} not trained yet "
    "(python -m vbench_lite train --detector shapes-video)",
)


# Heads that miss the 97% target with the shipped weights (manifest: shape 0.713, shape2 0.882,
# 640 CPU steps). Strict xfail: when a retrained detector meets the target, this test flips to a
# failure and the set must be emptied.


def _manifest() -> dict:
    return json.loads((assets_dir() / MANIFEST_FILE).read_text())


def test_manifest_matches_weights():
    manifest = _manifest()
    assert manifest["sha256"] == sha256_file(assets_dir() / WEIGHTS_FILE)
    assert set(manifest["heldout_accuracy"]) == set(ATTRIBUTE_CLASSES)
    assert manifest["command"] and manifest["seed"] == 0 and manifest["heldout_clips"]["num"] == 2048


def test_heldout_accuracy_meets_target():
    acc = _manifest()["heldout_accuracy"]
    for key in ATTRIBUTE_CLASSES:
        assert acc[key] >= 0.97, f"{key}: held-out accuracy {acc[key]}"


def test_attribute_accuracy_on_the_validation_split():
    from vbench_lite.metrics.detectors import load_detector
    from vbench_lite.suites.shapes import ShapesSuite

    suite, det = ShapesSuite(), load_detector("shapes-video")
    items = suite.items("validation", 256)
    preds = det.predict_attributes(suite.render(items))
    for key in ATTRIBUTE_CLASSES:
        truth = torch.tensor([attribute_labels(it.attributes)[key] for it in items])
        acc = float((preds[key] == truth).float().mean())
        assert acc >= 0.95, f"{key}: accuracy {acc:.3f} on 256 validation videos"
