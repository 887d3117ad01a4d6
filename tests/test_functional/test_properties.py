"""Property tests of the box maths in dkd_mm.functional over random boxes.

Boxes are drawn as a user's data and a detector's predictions can make them:
zero-size, tiny (below a pixel), huge and very elongated (up to 2000:0.001),
partly or wholly outside the image, and images without any box.  Masks are
compared with a per-box, per-cell reference written here in plain Python.
"""
import math
from typing import List, Tuple

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import (box_areas, box_deltas, box_hardness,
                               cell_centers, feature_strides, fgd_masks,
                               foreground_mask, points_in_boxes, roi_features)

# Few examples and no deadline: the suite stays fast on two shared cores;
# no example database is written into the checkout.
PROPERTY = settings(max_examples=25, deadline=None, database=None)
INPUT = (64, 96)  # padded (H_in, W_in)
FEAT_SIZES = ((8, 12), (4, 6))  # strides 8 and 16
# A cell centre nearer than this to a box edge may fall on either side in
# float32; such cells are left out of the comparison with the reference.
EDGE_TOL = 1e-3

coords = st.floats(-150., 250., allow_nan=False)
sides = st.one_of(
    st.just(0.), st.floats(1e-3, 1.), st.floats(1., 64.),
    st.floats(64., 2000.))
angles = st.floats(-math.pi, math.pi)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread is faster than a pool's synchronisation
    (20-fold on two busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@st.composite
def box_sets(draw, rotated: bool, max_boxes: int = 6) -> torch.Tensor:
    """(K, 5) cx, cy, w, h, angle or (K, 4) x1, y1, x2, y2; K may be 0."""
    rows = []
    for _ in range(draw(st.integers(0, max_boxes))):
        x, y, w, h = draw(coords), draw(coords), draw(sides), draw(sides)
        rows.append((x, y, w, h, draw(angles)) if rotated else (x, y, x + w,
                                                                y + h))
    return torch.tensor(
        rows, dtype=torch.float32).reshape(-1, 5 if rotated else 4)


def any_boxes(max_boxes: int = 6):
    return st.booleans().flatmap(lambda r: box_sets(r, max_boxes))


def ref_inside(box: List[float], x: float, y: float) -> Tuple[bool, bool]:
    """(inside, near an edge) of point (x, y) for one box, in float64."""
    if len(box) == 4:
        x1, y1, x2, y2 = box
        edges = (x - x1, x - x2, y - y1, y - y2)
        inside = x1 <= x < x2 and y1 <= y < y2
    else:
        cx, cy, w, h, angle = box
        cos, sin = math.cos(angle), math.sin(angle)
        along_w = (x - cx) * cos + (y - cy) * sin
        along_h = -(x - cx) * sin + (y - cy) * cos
        edges = (along_w + w / 2, along_w - w / 2, along_h + h / 2,
                 along_h - h / 2)
        inside = -w / 2 <= along_w < w / 2 and -h / 2 <= along_h < h / 2
    return inside, min(abs(e) for e in edges) < EDGE_TOL


def ref_area(box: List[float]) -> float:
    if len(box) == 4:
        return max(box[2] - box[0], 0.) * max(box[3] - box[1], 0.)
    return max(box[2], 0.) * max(box[3], 0.)


def ref_foreground(boxes: torch.Tensor, feat_size: Tuple[int, int]):
    """Per cell: max over boxes containing its centre of 1 / max(1, area in
    cells), else 0; and whether any box edge passes near the centre."""
    strides = feature_strides(feat_size, INPUT)
    mask = torch.zeros(feat_size, dtype=torch.float64)
    near = torch.zeros(feat_size, dtype=torch.bool)
    for box in boxes.double().tolist():
        weight = 1. / max(1., ref_area(box) / (strides[0] * strides[1]))
        for row in range(feat_size[0]):
            for col in range(feat_size[1]):
                inside, edge = ref_inside(box, (col + 0.5) * strides[1],
                                          (row + 0.5) * strides[0])
                near[row, col] |= edge
                if inside:
                    mask[row, col] = max(mask[row, col], weight)
    return mask, near


def ref_hardness(box: List[float], lambda_ar=0.5, lambda_s=0.5, s0=32.):
    w, h = (box[2] - box[0], box[3] - box[1]) if len(box) == 4 else box[2:4]
    long_side, short_side = max(w, h, 1.), max(min(w, h), 1.)
    return 1 + lambda_ar * math.log(long_side / short_side) + lambda_s * max(
        0., math.log(s0 / math.sqrt(long_side * short_side)))


@PROPERTY
@given(boxes=any_boxes())
def test_points_in_boxes_and_areas_match_the_reference(boxes):
    strides = feature_strides(FEAT_SIZES[0], INPUT)
    points = cell_centers(FEAT_SIZES[0], strides)
    inside = points_in_boxes(points, boxes)
    assert inside.shape == (len(boxes), len(points))
    for k, box in enumerate(boxes.double().tolist()):
        if ref_area(box) == 0:  # half-open: a zero-size box holds nothing
            assert not inside[k].any()
        for p, (x, y) in enumerate(points.double().tolist()):
            expected, near_edge = ref_inside(box, x, y)
            assert near_edge or bool(inside[k, p]) == expected, (box, x, y)
    areas = box_areas(boxes)
    assert torch.isfinite(areas).all() and (areas >= 0).all()
    torch.testing.assert_close(
        areas.double(),
        torch.tensor([ref_area(b) for b in boxes.double().tolist()],
                     dtype=torch.float64).reshape(-1),
        rtol=1e-5,
        atol=1e-6)


@PROPERTY
@given(boxes=any_boxes())
def test_foreground_and_fgd_masks_match_the_reference(boxes):
    for feat_size in FEAT_SIZES:
        strides = feature_strides(feat_size, INPUT)
        mask = foreground_mask(boxes, feat_size, strides)
        expected, near = ref_foreground(boxes, feat_size)
        assert mask.shape == feat_size and torch.isfinite(mask).all()
        torch.testing.assert_close(
            mask.double()[~near], expected[~near], rtol=1e-5, atol=1e-7)
        # FGD: the same foreground per image; background 1 / (its cells)
        # elsewhere, summing to 1 (an empty image is all background).
        empty = boxes.new_zeros(0, boxes.size(1))
        fg, bg = fgd_masks([boxes, empty], feat_size, strides)
        torch.testing.assert_close(fg[0], mask)
        assert (fg[1] == 0).all()
        num_bg = int((mask == 0).sum())
        torch.testing.assert_close(bg[0], (mask == 0).float() / max(num_bg, 1))
        assert float(bg[1].sum()) == pytest.approx(1., rel=1e-5)


@PROPERTY
@given(boxes=any_boxes())
def test_hardness_is_finite_at_least_one_and_matches(boxes):
    hardness = box_hardness(boxes)
    assert torch.isfinite(hardness).all() and (hardness >= 1).all()
    expected = [ref_hardness(b) for b in boxes.double().tolist()]
    torch.testing.assert_close(
        hardness.double(),
        torch.tensor(expected, dtype=torch.float64).reshape(-1),
        rtol=1e-5,
        atol=1e-5)


@PROPERTY
@given(pair=st.booleans().flatmap(
    lambda rotated: st.tuples(box_sets(rotated), box_sets(rotated))))
def test_box_deltas_finite_with_finite_gradients(pair):
    pred, target = pair
    num = min(len(pred), len(target))
    pred = pred[:num].clone().requires_grad_(True)
    target = target[:num]
    deltas = box_deltas(pred, target)
    assert deltas.shape == pred.shape and torch.isfinite(deltas).all()
    deltas.sum().backward()
    assert torch.isfinite(pred.grad).all()
    # A box relative to itself: no delta, whatever its size.
    assert (box_deltas(target, target).abs() < 1e-5).all()


@PROPERTY
@given(boxes=st.booleans().flatmap(
    lambda rotated: st.tuples(box_sets(rotated), box_sets(rotated))))
def test_roi_features_finite_with_finite_gradients(boxes):
    torch.manual_seed(0)
    feats = [
        torch.randn(2, 3, *size, requires_grad=True) for size in FEAT_SIZES
    ]
    strides = [INPUT[0] / size[0] for size in FEAT_SIZES]
    pooled = roi_features(feats, list(boxes), strides, output_size=3)
    assert pooled.shape == (sum(len(b) for b in boxes), 3, 3, 3)
    assert torch.isfinite(pooled).all()
    if len(pooled) == 0:  # no box: zeros, no graph (ISD returns early)
        return
    pooled.pow(2).sum().backward()
    assert all(
        torch.isfinite(f.grad).all() for f in feats if f.grad is not None)
