import math

import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import box_hardness, status_weights

# 40 x 10 box: a / b = 4, sqrt(a b) = 20 < 32:
# h = 1 + 0.5 * log(4) + 0.5 * log(32 / 20) = 1.928149...
H_40X10 = 1 + 0.5 * math.log(4) + 0.5 * math.log(32 / 20)


def test_box_hardness_known_boxes():
    boxes = torch.tensor([
        [0., 0., 40., 10.],  # 40 x 10
        [10., 10., 74., 74.],  # 64 x 64 square, large: h = 1
        [5., 5., 5., 5.],  # zero size: sides clamped to 1 ->
    ])  # h = 1 + 0 + 0.5 * log(32 / 1)
    expected = torch.tensor([H_40X10, 1., 1 + 0.5 * math.log(32)])
    torch.testing.assert_close(box_hardness(boxes), expected)


def test_box_hardness_rotated_ignores_side_order_and_angle():
    boxes = torch.tensor([[50., 50., 10., 40., 0.3], [0., 0., 40., 10., -1.2]])
    torch.testing.assert_close(
        box_hardness(boxes), torch.tensor([H_40X10, H_40X10]))


def test_box_hardness_lambdas():
    # lambda_ar = 1, lambda_s = 0: h = 1 + log(4).
    hardness = box_hardness(
        torch.tensor([[0., 0., 40., 10.]]), lambda_ar=1., lambda_s=0.)
    torch.testing.assert_close(hardness, torch.tensor([1 + math.log(4)]))


def test_status_weights():
    hardness = torch.tensor([1., H_40X10])
    torch.testing.assert_close(status_weights(hardness, 0.), torch.ones(2))
    # omega = 1 + (h - 1) * 0.5
    torch.testing.assert_close(
        status_weights(hardness, 0.5),
        torch.tensor([1., 1 + (H_40X10 - 1) * 0.5]))
    torch.testing.assert_close(status_weights(hardness, 1.), hardness)
    torch.testing.assert_close(status_weights(hardness, 3.), hardness)
    torch.testing.assert_close(
        status_weights(hardness, torch.tensor(1.)), hardness)
