from __future__ import annotations

import numpy as np
import pytest
import torch

from vbench_lite.suites.shapes import SEED_BASES, ShapesSuite, render_attributes, sample_attributes, vocab
from vbench_lite.suites.shapes.sample import centres

SUITE = ShapesSuite()


def test_same_seed_same_bytes() -> None:
    a = SUITE.render(SUITE.items("eval", 8))
    b = SUITE.render(SUITE.items("eval", 8))
    assert torch.equal(a, b)
    assert a.shape == (8, 16, 3, 32, 32) and a.dtype == torch.uint8
    # a different seed gives a different video
    c = SUITE.render(SUITE.items("eval", 8, offset=8))
    assert not torch.equal(a, c)


def test_rendering_is_batch_independent() -> None:
    items = SUITE.items("validation", 20)
    whole = SUITE.render(items)
    parts = torch.cat([SUITE.render(items[i : i + 3]) for i in range(0, 20, 3)])
    assert torch.equal(whole, parts)


@pytest.mark.parametrize("res", [24, 32, 48, 64])
def test_resolutions_same_content(res: int) -> None:
    items = SUITE.items("eval", 4)
    v = SUITE.render(items, resolution=res)
    assert v.shape == (4, 16, 3, res, res)
    # the object's centroid (in normalised units) agrees with the 32 px rendering
    ref = SUITE.render(items, resolution=32)
    for k in range(4):
        if items[k].attributes["num_objects"] != 1:
            continue
        assert np.allclose(_centroid(v[k, 0], items[k]), _centroid(ref[k, 0], items[k]), atol=0.03)


def _centroid(frame: torch.Tensor, item) -> np.ndarray:
    bg = torch.tensor(vocab.BACKGROUNDS[item.attributes["background"]]).view(3, 1, 1)
    mask = (frame.int() - bg).abs().sum(0) > 60
    ys, xs = torch.nonzero(mask, as_tuple=True)
    h = frame.shape[-1]
    return np.array([(xs.float().mean() + 0.5) / h, (ys.float().mean() + 0.5) / h])


def test_objects_stay_in_frame() -> None:
    items = SUITE.items("reference", 512)
    vids = SUITE.render(items)
    for it, v in zip(items, vids):
        bg = torch.tensor(vocab.BACKGROUNDS[it.attributes["background"]], dtype=torch.uint8).view(1, 3, 1)
        # every border pixel of every frame is pure background: nothing leaves the frame
        for edge in (v[..., 0, :], v[..., -1, :], v[..., :, 0], v[..., :, -1]):
            assert torch.equal(edge, bg.expand_as(edge)), it.prompt
        # and the object is visible in every frame (no object vanishes)
        diff = (v.int() - bg.view(1, 3, 1, 1).int()).abs().sum(1)
        assert (diff.flatten(1) > 60).any(1).all(), it.prompt


def test_motion_matches_direction_and_relation_holds() -> None:
    for it in SUITE.items("validation", 256):
        a = it.attributes
        c = centres(a)  # [objects, T, 2]
        d = c[0, -1] - c[0, 0]
        ux, uy = vocab.DIRECTION_VECTORS[a["direction"]]
        if a["direction"] == "still":
            assert np.allclose(d, 0)
        else:
            assert d[0] * ux + d[1] * uy > 0.25 and abs(d[0] * uy) + abs(d[1] * ux) < 1e-9
        if a["num_objects"] == 2:
            if a["relation"] == "left of":
                assert (c[0, :, 0] < c[1, :, 0] - 2 * a["objects"][0]["r"]).all()
            else:
                assert (c[0, :, 1] < c[1, :, 1] - 2 * a["objects"][0]["r"]).all()


def test_captions_consistent_with_attributes() -> None:
    seen = set()
    for it in SUITE.items("eval"):
        a = it.attributes
        p = it.prompt
        assert p == vocab.caption(a) == a["caption"]
        assert f"a {a['color']} {a['shape']}" in p
        assert f"on a {a['background']} background" in p
        assert p.startswith(f"a {a['color']} {a['shape']}")
        if a["direction"] == "still":
            assert "standing still" in p
        else:
            assert f"moving {a['direction']} {vocab.SPEED_WORDS[a['speed']]}" in p
        if a["num_objects"] == 2:
            assert vocab.RELATION_PHRASES[a["relation"]] in p
            assert f"a {a['color2']} {a['shape2']}" in p and a["color"] != a["color2"]
        for key, classes in vocab.ATTRIBUTE_CLASSES.items():
            assert str(a[key]) in classes, key
        no_motion = vocab.caption(a, with_motion=False)
        assert "moving" not in no_motion and "still" not in no_motion
        seen.update((a["shape"], a["color"], a["direction"], a["background"]))
    # the eval set covers every vocabulary
    for values in (vocab.SHAPES, vocab.COLORS, vocab.DIRECTIONS, vocab.BACKGROUNDS):
        assert set(values) <= seen


def test_disjoint_seed_streams() -> None:
    sets = {s: set(SUITE.seeds(s)) for s in ("eval", "validation", "reference")}
    sets["train"] = set(SUITE.seeds("train", 100_000))
    assert len(sets["eval"]) == len(sets["validation"]) == 256
    assert len(sets["reference"]) >= 2048
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not sets[a] & sets[b], (a, b)
    # train lies above every bounded stream, so any amount of it overlaps none
    assert SEED_BASES["train"] > max(max(v) for k, v in sets.items() if k != "train")


def test_split_bounds_and_errors() -> None:
    with pytest.raises(ValueError, match="has 256 videos"):
        SUITE.items("eval", 10, offset=250)
    with pytest.raises(ValueError, match="unbounded"):
        SUITE.items("train")
    with pytest.raises(ValueError, match="no split 'test'"):
        SUITE.items("test")
    with pytest.raises(ValueError, match="empty"):
        render_attributes([])


def test_attributes_pure_function_of_seed() -> None:
    assert sample_attributes(123) == sample_attributes(123)
    assert sample_attributes(123) != sample_attributes(124)


@pytest.mark.parametrize("res", [24, 64])
def test_objects_stay_in_frame_other_resolutions(res: int) -> None:
    items = SUITE.items("reference", 128, offset=512)
    vids = SUITE.render(items, resolution=res)
    for it, v in zip(items, vids):
        bg = torch.tensor(vocab.BACKGROUNDS[it.attributes["background"]], dtype=torch.uint8).view(1, 3, 1)
        for edge in (v[..., 0, :], v[..., -1, :], v[..., :, 0], v[..., :, -1]):
            assert torch.equal(edge, bg.expand_as(edge)), it.prompt
