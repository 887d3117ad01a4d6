import ast
import inspect
import math
import textwrap

import pytest
import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import (background_weights, box_areas, box_masks,
                               cell_centers, feature_strides, foreground_mask,
                               points_in_boxes)

# A 4 x 4 grid of stride 8 (32 x 32 input): cell centres at 4, 12, 20, 28.
SIZE, STRIDES = (4, 4), (8., 8.)


def test_strides_and_cell_centers():
    assert feature_strides((4, 8), (32, 64)) == (8., 8.)
    assert feature_strides((2, 3), (16, 12)) == (8., 4.)
    # (H, W) = (2, 3), stride_h = 8, stride_w = 4: x = 2, 6, 10; y = 4, 12.
    centers = cell_centers((2, 3), (8., 4.))
    expected = torch.tensor([[2., 4.], [6., 4.], [10., 4.], [2., 12.],
                             [6., 12.], [10., 12.]])
    torch.testing.assert_close(centers, expected)


def test_horizontal_box_covering_2x2_cells():
    # (0, 0, 16, 16) holds centres x, y in {4, 12}: cells (0..1, 0..1);
    # area = 256 px = 4 cells of 64 px -> 1 / 4.
    mask = foreground_mask(torch.tensor([[0., 0., 16., 16.]]), SIZE, STRIDES)
    expected = torch.zeros(4, 4)
    expected[:2, :2] = 0.25
    torch.testing.assert_close(mask, expected)


def test_horizontal_box_x_and_y_are_not_swapped():
    # x in [8, 24) -> columns 1, 2; y in [8, 16) -> row 1;
    # area 16 * 8 = 128 px = 2 cells -> 0.5.
    mask = foreground_mask(torch.tensor([[8., 8., 24., 16.]]), SIZE, STRIDES)
    expected = torch.zeros(4, 4)
    expected[1, 1:3] = 0.5
    torch.testing.assert_close(mask, expected)


def test_overlapping_boxes_take_the_max_and_small_boxes_clamp():
    boxes = torch.tensor([
        [0., 0., 16., 16.],  # 4 cells -> 0.25 on rows/cols 0..1
        [8., 8., 16., 16.],  # 1 cell, holds centre (12, 12) -> 1.0
        [18., 26., 22., 30.],  # 16 px = 0.25 cell -> clamped to 1 -> 1.0
    ])  # at the centre (20, 28): cell (3, 2)
    mask = foreground_mask(boxes, SIZE, STRIDES)
    expected = torch.zeros(4, 4)
    expected[:2, :2] = 0.25
    expected[1, 1] = 1.
    expected[3, 2] = 1.
    torch.testing.assert_close(mask, expected)


def test_rotated_45_degree_square():
    # Square of side s = 20 * sqrt(2) centred at (16, 16), angle pi / 4.
    # A point is inside iff |dx| + |dy| < s / sqrt(2) = 20. Offsets of the
    # centres are +-4, +-12: |dx| + |dy| is 8 or 16 (inside) except at the
    # four corners (24, outside). Area = s^2 = 800 px = 12.5 cells -> 0.08.
    side = 20 * math.sqrt(2)
    boxes = torch.tensor([[16., 16., side, side, math.pi / 4]])
    mask = foreground_mask(boxes, SIZE, STRIDES)
    expected = torch.full((4, 4), 0.08)
    expected[0, 0] = expected[0, 3] = expected[3, 0] = expected[3, 3] = 0
    torch.testing.assert_close(mask, expected)


def test_rotated_box_orientation():
    # Centre (12, 16), w = 20 along (cos 90deg, sin 90deg) = +y, h = 6
    # along x: y in [6, 26) -> rows 1, 2; x in [9, 15) -> column 1.
    # Area = 120 px = 1.875 cells -> 1 / 1.875.
    boxes = torch.tensor([[12., 16., 20., 6., math.pi / 2]])
    mask = foreground_mask(boxes, SIZE, STRIDES)
    expected = torch.zeros(4, 4)
    expected[1:3, 1] = 1 / 1.875
    torch.testing.assert_close(mask, expected)


def test_rotated_at_angle_zero_equals_horizontal():
    hbox = torch.tensor([[0., 8., 24., 32.]])
    rbox = torch.tensor([[12., 20., 24., 24., 0.]])
    torch.testing.assert_close(
        foreground_mask(rbox, SIZE, STRIDES),
        foreground_mask(hbox, SIZE, STRIDES))


@pytest.mark.parametrize('dim', [4, 5])
def test_empty_and_zero_area_boxes(dim):
    empty = foreground_mask(torch.zeros(0, dim), SIZE, STRIDES)
    assert torch.equal(empty, torch.zeros(4, 4))
    empty = foreground_mask(
        torch.zeros(0, dim, dtype=torch.float64), (3, 5), (8., 4.))
    assert torch.equal(empty, torch.zeros(3, 5, dtype=torch.float64))
    # Zero-area boxes (at a cell centre) contain nothing (half-open boxes).
    degenerate = torch.tensor([[12., 12., 12., 12., 0.][:dim]])
    if dim == 5:
        degenerate = torch.tensor([[12., 12., 0., 0., 0.3]])
    assert torch.equal(
        foreground_mask(degenerate, SIZE, STRIDES), torch.zeros(4, 4))


def test_bad_box_dim_raises():
    with pytest.raises(ValueError):
        points_in_boxes(torch.zeros(3, 2), torch.zeros(2, 6))


def _loops(func) -> list:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    return [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.For, ast.While, ast.comprehension))
    ]


def test_masks_have_no_python_loops():
    for func in (points_in_boxes, foreground_mask, box_masks.box_areas,
                 cell_centers, background_weights, box_masks._box_windows,
                 box_masks._inside):
        assert not _loops(func), func.__name__


def _reference_mask(boxes: torch.Tensor, size, strides) -> torch.Tensor:
    """Slow per-box, per-cell reference of ``foreground_mask``."""
    mask = torch.zeros(size, dtype=torch.float64)
    for cx, cy, w, h, angle in boxes.tolist():
        inv_area = 1 / max(1., w * h / (strides[0] * strides[1]))
        for row in range(size[0]):
            for col in range(size[1]):
                dx = (col + 0.5) * strides[1] - cx
                dy = (row + 0.5) * strides[0] - cy
                along_w = dx * math.cos(angle) + dy * math.sin(angle)
                along_h = -dx * math.sin(angle) + dy * math.cos(angle)
                if -w / 2 <= along_w < w / 2 and -h / 2 <= along_h < h / 2:
                    mask[row, col] = max(mask[row, col].item(), inv_area)
    return mask


def test_matches_per_box_reference_with_many_boxes():
    gen = torch.Generator().manual_seed(0)
    num = 500
    boxes = torch.cat([
        torch.rand(num, 2, generator=gen, dtype=torch.float64) * 128,
        torch.rand(num, 2, generator=gen, dtype=torch.float64) * 30 + 1,
        (torch.rand(num, 1, generator=gen, dtype=torch.float64) - 0.5) *
        math.pi
    ],
                      dim=1)
    size, strides = (16, 16), (8., 8.)
    torch.testing.assert_close(
        foreground_mask(boxes, size, strides),
        _reference_mask(boxes, size, strides))


def _all_cells_mask(boxes: torch.Tensor, size, strides) -> torch.Tensor:
    """Dense reference: every box against every cell centre, with the maths
    of ``points_in_boxes`` (``foreground_mask`` before it used windows)."""
    if len(boxes) == 0:
        return boxes.new_zeros(size)
    points = cell_centers(size, strides, dtype=boxes.dtype)
    inside = points_in_boxes(points, boxes)  # (K, H * W)
    inv_area = 1 / (box_areas(boxes) / (strides[0] * strides[1])).clamp(min=1)
    mask = torch.where(inside, inv_area[:, None], inv_area.new_zeros(()))
    return mask.amax(dim=0).reshape(size)


def _random_boxes(gen: torch.Generator, num: int, size, strides, rotated: bool,
                  dtype: torch.dtype) -> torch.Tensor:
    """Boxes of every kind the windows must handle: centres up to half the
    grid outside it (crossing the border or wholly outside), sides of 0,
    below one cell, ordinary, and up to three times the grid; angles
    anywhere in [-pi/2, pi/2], exactly +-pi/2 and 0 included."""
    extent = torch.tensor([size[1] * strides[1], size[0] * strides[0]],
                          dtype=dtype)  # (x, y) pixels of the grid
    centers = (torch.rand(num, 2, generator=gen, dtype=dtype) * 2 -
               0.5) * extent
    kind = torch.randint(0, 4, (num, 1), generator=gen)
    scale = torch.tensor(
        [0., min(strides) / 2, 6 * max(strides), 3 * float(extent.max())],
        dtype=dtype)[kind]  # zero, tiny, ordinary, huge
    sides = torch.rand(num, 2, generator=gen, dtype=dtype) * scale
    if not rotated:
        return torch.cat([centers - sides / 2, centers + sides / 2], dim=1)
    angles = (torch.rand(num, 1, generator=gen, dtype=dtype) - 0.5) * math.pi
    angles[0::5] = math.pi / 2
    angles[1::5] = -math.pi / 2
    angles[2::5] = 0.
    return torch.cat([centers, sides, angles], dim=1)


@pytest.mark.parametrize('rotated', [True, False])
@pytest.mark.parametrize('size, strides, dtype',
                         [((16, 16), (8., 8.), torch.float32),
                          ((12, 20), (8., 4.), torch.float32),
                          ((7, 3), (5.5, 16.), torch.float64),
                          ((1, 9), (32., 8.), torch.float32)])
def test_windowed_mask_equals_the_all_cells_test(rotated, size, strides,
                                                 dtype):
    gen = torch.Generator().manual_seed(1)
    for num in (1, 7, 200):
        boxes = _random_boxes(gen, num, size, strides, rotated, dtype)
        mask = foreground_mask(boxes, size, strides)
        assert mask.dtype == dtype and mask.shape == size
        # Bit-identical, not merely close.
        assert torch.equal(mask, _all_cells_mask(boxes, size, strides))
    assert mask.unique().numel() >= 3  # overlaps of several boxes


def test_windowed_mask_hand_worked_on_a_non_square_grid():
    # Grid (H, W) = (3, 5), strides (8, 4): centres y in {4, 12, 20},
    # x in {2, 6, 10, 14, 18}; a cell is 32 px.
    boxes = torch.tensor([
        # w = 20 along +y (angle pi / 2): y in [2, 22) -> rows 0..2;
        # h = 6 along x: x in (15, 21], past the right border -> column 4.
        # 120 px = 3.75 cells -> 4 / 15.
        [18., 12., 20., 6., math.pi / 2],
        # 1 px, below a cell -> 1; holds the centre (6, 4) of cell (0, 1).
        [6.2, 4.1, 1., 1., 0.3],
        # Wholly outside the grid: nothing.
        [-50., 12., 10., 10., 0.2],
        # Bigger than the grid (1e6 px = 31250 cells): every cell, 3.2e-5.
        [10., 12., 1000., 1000., math.pi / 4],
    ])
    expected = torch.full((3, 5), 1 / 31250)
    expected[:, 4] = 4 / 15
    expected[0, 1] = 1.
    torch.testing.assert_close(
        foreground_mask(boxes, (3, 5), (8., 4.)), expected)


def test_windows_are_the_bounding_rectangle_plus_one_cell():
    # Stride 8 on a 100 x 100 grid. (80, 80, 96, 96) holds the centres 84
    # and 92 (cells 10, 11); widened by one cell each side: 9..12.
    params = box_masks._box_params(
        torch.tensor([[80., 80., 96., 96.], [-900., 8., -800., 96.],
                      [math.nan, 0., math.nan, 8.]]))
    first, size = box_masks._box_windows(params, (100, 100), (8., 8.))
    assert first[0].tolist() == [9, 9] and size[0].tolist() == [4, 4]
    assert size[1, 1] == 0  # left of the grid: an empty window
    # NaN bounds: all columns, so the exact test decides.
    assert first[2, 1] == 0 and size[2, 1] == 100


def test_background_softmax_known_values():
    # One image; D = [[1, 2], [3, 100]], cell (1, 1) is foreground.
    # Without normalisation, tau = 1: softmax(1, 2, 3) on the background.
    disc = torch.tensor([[[1., 2.], [3., 100.]]])
    bg = torch.tensor([[[True, True], [True, False]]])
    total = math.e + math.e**2 + math.e**3
    expected = torch.tensor([[[math.e / total, math.e**2 / total],
                              [math.e**3 / total, 0.]]])
    weights = background_weights(disc, bg, tau=1., normalize=False)
    torch.testing.assert_close(weights, expected)
    # Normalised: mean_bg(D) = 2 -> D' = 0.5, 1, 1.5; with tau = 0.5 the
    # logits are again 1, 2, 3.
    weights = background_weights(disc, bg, tau=0.5, normalize=True)
    torch.testing.assert_close(weights, expected)
    # Normalisation makes the weights independent of the scale of D.
    torch.testing.assert_close(
        background_weights(disc * 1e3, bg, tau=0.5), expected)


def test_background_topk_ratio():
    # 3 background cells, ratio 0.5: ceil(1.5) = 2 cells of largest D
    # (D = 3 and 2) -> softmax(2, 3) there, 0 at D = 1.
    disc = torch.tensor([[[1., 2.], [3., 100.]]])
    bg = torch.tensor([[[True, True], [True, False]]])
    total = math.e**2 + math.e**3
    expected = torch.tensor([[[0., math.e**2 / total], [math.e**3 / total,
                                                        0.]]])
    weights = background_weights(
        disc, bg, tau=1., topk_ratio=0.5, normalize=False)
    torch.testing.assert_close(weights, expected)
    with pytest.raises(ValueError):
        background_weights(disc, bg, topk_ratio=0.)


def test_background_without_background_cells_is_zero():
    # Image 0 has no background, image 1 only background with D = 0.
    disc = torch.stack([torch.rand(3, 3), torch.zeros(3, 3)])
    bg = torch.stack([torch.zeros(3, 3), torch.ones(3, 3)]).bool()
    weights = background_weights(disc, bg, topk_ratio=0.3)
    assert torch.equal(weights[0], torch.zeros(3, 3))
    # ceil(0.3 * 9) = 3 cells kept; equal D -> 1 / 3 each.
    assert torch.isfinite(weights).all()
    torch.testing.assert_close(weights[1].sum(), torch.tensor(1.))
    assert int((weights[1] > 0).sum()) == 3
