import math

import pytest
import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import map_roi_levels, roi_features

# Two levels of a 128 x 128 input: stride 8 (16 x 16) and 16 (8 x 8).
STRIDES = (8., 16.)
SIZES = (16, 8)


def test_map_roi_levels_as_mmdet():
    # level = floor(log2(sqrt(w h) / 56 + 1e-6)), clamped to [0, 3]:
    # 28 -> log2(0.5) = -1 -> 0; 56 -> log2(1 + 1e-6) ~ 1.4e-6 -> 0;
    # 111 -> log2(1.98) -> 0; 112 -> 1; 224 -> 2; 448 -> 3; 896 -> 4 -> 3.
    sides = torch.tensor([28., 56., 111., 112., 224., 448., 896.])
    horizontal = torch.stack(
        [torch.zeros(7), torch.zeros(7), sides, sides], dim=1)
    expected = [0, 0, 0, 1, 2, 3, 3]
    assert map_roi_levels(horizontal, 4).tolist() == expected
    # Rotated: the scale is sqrt(w h) whatever the angle; 56 x 224 has
    # sqrt = 112 -> 1.
    rotated = torch.stack(
        [torch.zeros(7),
         torch.zeros(7), sides, sides,
         torch.full((7, ), 0.7)],
        dim=1)
    assert map_roi_levels(rotated, 4).tolist() == expected
    assert map_roi_levels(torch.tensor([[0., 0., 56., 224., 1.]]),
                          4).tolist() == [1]
    # Fewer levels clamp lower; a degenerate box goes to level 0.
    assert map_roi_levels(horizontal, 2).tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert map_roi_levels(torch.tensor([[5., 5., 5., 5.]]), 4).tolist() == [0]


def _x_maps(num_images=1, channels=1, offsets=(0., 1000.)):
    """Levels whose value at a cell is its centre x in input pixels,
    (w + 0.5) * stride, plus a per-level offset that tells levels apart."""
    feats = []
    for size, stride, offset in zip(SIZES, STRIDES, offsets):
        xs = (torch.arange(size, dtype=torch.float32) + 0.5) * stride
        feats.append(xs.expand(num_images, channels, size, size) + offset)
    return feats


def _bin_centres(start, length, bins=7):
    return start + (torch.arange(bins, dtype=torch.float32) + 0.5) * (
        length / bins)


def test_constant_map_pools_to_the_constant():
    feats = [torch.full((2, 3, s, s), 2.5) for s in SIZES]
    boxes = [
        torch.tensor([[10., 20., 60., 50.]]),
        torch.tensor([[30., 30., 40., 20., 0.4]])
    ]
    out = roi_features(feats, boxes[:1] + [torch.zeros(0, 4)], STRIDES)
    torch.testing.assert_close(out, torch.full((1, 3, 7, 7), 2.5))
    out = roi_features(feats, [torch.zeros(0, 5), boxes[1]], STRIDES)
    torch.testing.assert_close(out, torch.full((1, 3, 7, 7), 2.5))


def test_horizontal_box_on_x_map_gives_bin_centres():
    # RoIAlign(aligned=True) samples at continuous feature coordinates
    # x1 / s - 0.5 + (pw + (i + 0.5) / 2) * (w / s) / 7, i = 0, 1.  On the
    # level-0 map (value (x_f + 0.5) * s, linear, so bilinear sampling is
    # exact away from the border) each bin is the mean of its two samples,
    # i.e. the value at its centre: x1 + (pw + 0.5) * w / 7 pixels.  Box
    # (12, 16, 44, 40): 32 x 24, sqrt(wh) = 27.7 -> level 0; bins
    # 12 + (pw + 0.5) * 32 / 7, their mean the box centre x = 28.
    box = torch.tensor([[12., 16., 44., 40.]])
    out = roi_features(_x_maps(), [box], STRIDES)
    assert out.shape == (1, 1, 7, 7)
    expected = _bin_centres(12., 32.).expand(7, 7)
    torch.testing.assert_close(out[0, 0], expected)
    assert out.mean().item() == pytest.approx(28.)


def test_large_box_is_pooled_from_level_one():
    # A 120 x 120 box (sqrt(wh) = 120 -> level 1, stride 16) centred at 64:
    # bins 4 + (pw + 0.5) * 120 / 7 plus the level offset 1000.
    box = torch.tensor([[4., 4., 124., 124.]])
    out = roi_features(_x_maps(), [box], STRIDES)
    expected = _bin_centres(4., 120.).expand(7, 7) + 1000.
    torch.testing.assert_close(out[0, 0], expected)
    assert out.mean().item() == pytest.approx(64. + 1000.)


def test_rotated_box_at_angle_zero_equals_horizontal():
    # (cx, cy, w, h, 0) = (28, 28, 32, 24, 0) is (12, 16, 44, 40).
    feats = [torch.randn(1, 4, s, s) for s in SIZES]
    horizontal = roi_features(feats, [torch.tensor([[12., 16., 44., 40.]])],
                              STRIDES)
    rotated = roi_features(feats, [torch.tensor([[28., 28., 32., 24., 0.]])],
                           STRIDES)
    torch.testing.assert_close(rotated, horizontal, atol=1e-5, rtol=1e-5)


def test_rotated_box_follows_mmrotate_angle_convention():
    # mmrotate's w side points along (cos a, sin a) in image coordinates
    # (y down); with clockwise=True RoIAlignRotated samples that way.  Box
    # (32, 32, 28, 14, pi / 2): the w side (output columns pw) runs along
    # +y, the h side (rows ph) along (-sin a, cos a) = -x.  On a y map:
    # 32 - 14 + (pw + 0.5) * 4 = 20, 24, ..., 44 along pw; on an x map:
    # 32 + 7 - (ph + 0.5) * 2 = 38, 36, ..., 26 along ph.
    box = torch.tensor([[32., 32., 28., 14., math.pi / 2]])
    x_maps = _x_maps(offsets=(0., 0.))
    y_maps = [x.transpose(-1, -2).contiguous() for x in x_maps]
    on_y = roi_features(y_maps, [box], STRIDES)[0, 0]
    on_x = roi_features(x_maps, [box], STRIDES)[0, 0]
    torch.testing.assert_close(on_y, _bin_centres(18., 28.).expand(7, 7))
    torch.testing.assert_close(
        on_x,
        _bin_centres(25., 14.).flip(0)[:, None].expand(7, 7))


def test_batch_order_and_image_index():
    # Image 1 of the batch holds a different constant: rows follow the
    # concatenated per-image box lists.
    feats = [
        torch.stack([torch.zeros(2, s, s),
                     torch.ones(2, s, s)]) for s in SIZES
    ]
    boxes = [
        torch.tensor([[8., 8., 40., 40.]]),
        torch.tensor([[8., 8., 40., 40.], [0., 0., 120., 120.]])
    ]
    out = roi_features(feats, boxes, STRIDES)
    assert out.shape == (3, 2, 7, 7)
    assert out.flatten(1).mean(1).tolist() == [0., 1., 1.]


def test_gradient_reaches_the_features():
    feats = [torch.randn(2, 3, s, s, requires_grad=True) for s in SIZES]
    boxes = [
        torch.tensor([[28., 28., 32., 24., 0.3]]),
        torch.tensor([[64., 64., 120., 110., -0.2]])
    ]  # level 0, 1
    roi_features(feats, boxes, STRIDES).sum().backward()
    assert feats[0].grad[0].abs().sum() > 0
    assert feats[0].grad[1].abs().sum() == 0
    assert feats[1].grad[1].abs().sum() > 0
    assert feats[1].grad[0].abs().sum() == 0


@pytest.mark.parametrize('dim', [4, 5])
def test_empty_box_lists(dim):
    feats = [torch.randn(2, 3, s, s, requires_grad=True) for s in SIZES]
    out = roi_features(
        feats, [torch.zeros(0, dim), torch.zeros(0, dim)], STRIDES)
    assert out.shape == (0, 3, 7, 7)


def test_strides_per_axis():
    # A level of 16 rows and 8 columns of a 128 x 128 input: strides
    # (stride_h, stride_w) = (8, 16).  On maps holding each cell centre's x
    # (w + 0.5) * 16 and y (h + 0.5) * 8, bins are at the box's bin
    # centres along both axes: (12, 16, 44, 40) gives x 12 + (pw + 0.5) *
    # 32 / 7 and y 16 + (ph + 0.5) * 24 / 7.  Equal pairs are one stride.
    xs = (torch.arange(8.) + 0.5) * 16
    ys = (torch.arange(16.) + 0.5) * 8
    x_map = xs.expand(1, 1, 16, 8).contiguous()
    y_map = ys[:, None].expand(1, 1, 16, 8).contiguous()
    box = [torch.tensor([[12., 16., 44., 40.]])]
    on_x = roi_features([x_map], box, [(8., 16.)])[0, 0]
    on_y = roi_features([y_map], box, [(8., 16.)])[0, 0]
    torch.testing.assert_close(on_x, _bin_centres(12., 32.).expand(7, 7))
    torch.testing.assert_close(on_y,
                               _bin_centres(16., 24.)[:, None].expand(7, 7))
    feats = [torch.randn(1, 4, s, s) for s in SIZES]
    torch.testing.assert_close(
        roi_features(feats, box, [(8., 8.), (16., 16.)]),
        roi_features(feats, box, STRIDES))
    # A rotated box at angle 0 is pooled as the horizontal one.
    rotated = [torch.tensor([[28., 28., 32., 24., 0.]])]
    torch.testing.assert_close(
        roi_features([x_map], rotated, [(8., 16.)])[0, 0],
        on_x,
        atol=1e-4,
        rtol=1e-4)


@pytest.mark.parametrize('dim', [4, 5])
def test_non_contiguous_features_pool_as_contiguous(dim):
    # mmcv's kernels read raw memory: a channels-last view (same values,
    # other strides) must pool to the same features as its contiguous copy.
    torch.manual_seed(0)
    feats = [torch.randn(2, s, s, 3).permute(0, 3, 1, 2)
             for s in SIZES]  # (N, C, H, W) views, not contiguous
    assert not feats[0].is_contiguous()
    box = ([[20., 30., 52., 50.]] if dim == 4 else [[36., 40., 32., 20., 0.3]])
    boxes = [torch.tensor(box), torch.tensor(box)]
    out = roi_features(feats, boxes, STRIDES)
    expected = roi_features([f.contiguous() for f in feats], boxes, STRIDES)
    assert out.abs().sum() > 0
    torch.testing.assert_close(out, expected)


def test_levels_of_different_widths_are_refused():
    # The RoIs of all levels go into one (R, C, 7, 7) tensor.
    feats = [torch.zeros(1, 4, s, s) for s in SIZES]
    feats[1] = torch.zeros(1, 2, 8, 8)
    with pytest.raises(ValueError, match=r'same channels, got \[4, 2\]'):
        roi_features(feats, [torch.tensor([[0., 0., 32., 32.]])], STRIDES)
