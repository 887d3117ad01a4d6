import math

import pytest
import torch
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmrotate.models.task_modules.coders import DeltaXYWHTRBBoxCoder
from mmrotate.structures.bbox import RotatedBoxes

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import box_deltas


def _rboxes(num: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    return torch.cat([
        torch.rand(num, 2, generator=gen) * 200,
        torch.rand(num, 2, generator=gen) * 60 + 4,
        (torch.rand(num, 1, generator=gen) - 0.5) * math.pi
    ],
                     dim=1)


def test_known_values():
    # Rotated: pred is the target shifted 10 px along its long axis and
    # twice as long: dx = 10 / 20, dw = log 2.
    target = torch.tensor([[0., 0., 20., 10., 0.]])
    pred = torch.tensor([[10., 0., 40., 10., 0.]])
    torch.testing.assert_close(
        box_deltas(pred, target), torch.tensor([[.5, 0.,
                                                 math.log(2), 0., 0.]]))
    # The same box described as (h, w, t + pi / 2) (angle near pi / 2): the
    # description nearer the target's angle is used, so only dt = -0.1.
    target = torch.tensor([[0., 0., 40., 10., 0.]])
    pred = torch.tensor([[0., 0., 10., 40., math.pi / 2 - .1]])
    torch.testing.assert_close(
        box_deltas(pred, target), torch.tensor([[0., 0., 0., 0., -.1]]))
    # The centre offset is measured along the target's axes: a target turned
    # by pi / 4 and a pred moved along its long axis.
    t = math.pi / 4
    target = torch.tensor([[0., 0., 20., 10., t]])
    pred = torch.tensor([[10 * math.cos(t), 10 * math.sin(t), 20., 10., t]])
    torch.testing.assert_close(
        box_deltas(pred, target), torch.tensor([[.5, 0., 0., 0., 0.]]))
    # Horizontal, with stds: centre (15, 5) vs (10, 5), sides 10x10 vs
    # 20x10: dx = 5 / 20 / 0.1, dw = log(0.5) / 0.2.
    target = torch.tensor([[0., 0., 20., 10.]])
    pred = torch.tensor([[10., 0., 20., 10.]])
    torch.testing.assert_close(
        box_deltas(pred, target, stds=(.1, .1, .2, .2)),
        torch.tensor([[2.5, 0., math.log(.5) / .2, 0.]]))


def test_equals_the_coders_encoding():
    # The deltas of pred relative to target are what the head's coder
    # encodes with target as the anchor.
    target, pred = _rboxes(50, 0), _rboxes(50, 1)
    coder = DeltaXYWHTRBBoxCoder(
        angle_version='le90',
        edge_swap=True,
        proj_xy=True,
        target_stds=(.1, .1, .2, .2, .1))
    torch.testing.assert_close(
        box_deltas(pred, target, (.1, .1, .2, .2, .1)),
        coder.encode(RotatedBoxes(target), RotatedBoxes(pred)),
        rtol=1e-5,
        atol=1e-5)
    xy = target[:, :2]
    htarget = torch.cat([xy, xy + target[:, 2:4]], dim=1)
    corner = xy + pred[:, :2] / 20
    hpred = torch.cat([corner, corner + pred[:, 2:4]], dim=1)
    hcoder = DeltaXYWHBBoxCoder(target_stds=(.1, .1, .2, .2))
    torch.testing.assert_close(
        box_deltas(hpred, htarget, (.1, .1, .2, .2)),
        hcoder.encode(htarget, hpred),
        rtol=1e-5,
        atol=1e-5)


def test_equals_anchor_delta_difference_for_sides_and_angle():
    # A head's delta loss compares encode(anchor, pred) and
    # encode(anchor, target); for the sides and the angle the difference is
    # exactly box_deltas(pred, target) (small angle errors: no edge swap).
    gen = torch.Generator().manual_seed(2)
    target = _rboxes(30, 3)
    anchors = target.clone()
    anchors[:, :4] += torch.randn(30, 4, generator=gen)
    anchors[:, 4] += 0.1 * torch.randn(30, generator=gen)
    pred = target.clone()
    pred[:, :4] += torch.randn(30, 4, generator=gen)
    pred[:, 4] += 0.1 * torch.randn(30, generator=gen)
    coder = DeltaXYWHTRBBoxCoder(
        angle_version='le90', edge_swap=True, proj_xy=True)

    def encode(boxes):
        return coder.encode(RotatedBoxes(anchors), RotatedBoxes(boxes))

    torch.testing.assert_close(
        (encode(pred) - encode(target))[:, 2:],
        box_deltas(pred, target)[:, 2:],
        rtol=1e-4,
        atol=1e-4)


def test_zero_on_equal_boxes_empty_and_gradient():
    boxes = _rboxes(5, 4)
    assert torch.allclose(
        box_deltas(boxes, boxes), torch.zeros(5, 5), atol=1e-6)
    assert box_deltas(torch.zeros(0, 5), torch.zeros(0, 5)).shape == (0, 5)
    pred = (boxes + 0.5).requires_grad_(True)
    box_deltas(pred, boxes).abs().sum().backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    # Degenerate (zero-size) boxes stay finite.
    flat = torch.tensor([[0., 0., 0., 0., 0.]])
    assert torch.isfinite(box_deltas(flat, flat)).all()


def test_shape_errors():
    with pytest.raises(ValueError, match='both be'):
        box_deltas(torch.zeros(3, 5), torch.zeros(3, 4))
    with pytest.raises(ValueError, match='both be'):
        box_deltas(torch.zeros(3, 6), torch.zeros(3, 6))


@pytest.mark.parametrize('dim', [4, 5])
def test_zero_size_target_stays_in_float16_range(dim):
    # A 40 px prediction against a zero-size target: the centre offset is
    # divided by the 1 px floor, the sides' log ratio taken as a difference
    # of logs; in float16 nothing overflows.
    if dim == 4:  # x1, y1, x2, y2: the target is the point (50, 50)
        pred = torch.tensor([[60., 50., 100., 90.]])
        target = torch.tensor([[50., 50., 50., 50.]])
    else:  # cx, cy, w, h, angle
        pred = torch.tensor([[80., 70., 40., 40., 0.3]])
        target = torch.tensor([[50., 50., 0., 0., 0.]])
    deltas = box_deltas(pred.half(), target.half())
    assert torch.isfinite(deltas).all()
    torch.testing.assert_close(
        deltas.float(), box_deltas(pred, target), rtol=2e-3, atol=2e-2)
