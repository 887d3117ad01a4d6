import pytest
import torch
from mmdet.structures.bbox import HorizontalBoxes

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import (box_areas, box_centers, box_sides, box_tensor,
                               image_boxes)


def test_sides_centres_areas_horizontal_and_rotated():
    # (2, 4, 8, 10): 6 x 6 around (5, 7); a flipped box has negative sides
    # and zero area.  Rotated: sides and centre as stored, any angle.
    horizontal = torch.tensor([[2., 4., 8., 10.], [5., 5., 3., 9.]])
    torch.testing.assert_close(
        box_sides(horizontal), torch.tensor([[6., 6.], [-2., 4.]]))
    torch.testing.assert_close(
        box_centers(horizontal), torch.tensor([[5., 7.], [4., 7.]]))
    torch.testing.assert_close(box_areas(horizontal), torch.tensor([36., 0.]))
    rotated = torch.tensor([[5., 7., 6., 2., 0.7]])
    torch.testing.assert_close(box_sides(rotated), torch.tensor([[6., 2.]]))
    torch.testing.assert_close(box_centers(rotated), torch.tensor([[5., 7.]]))
    torch.testing.assert_close(box_areas(rotated), torch.tensor([12.]))
    assert box_sides(torch.zeros(0, 5)).shape == (0, 2)
    with pytest.raises(ValueError, match=r'\(K, 4\) or \(K, 5\)'):
        box_sides(torch.zeros(3, 6))


def test_box_tensor_and_image_boxes():
    boxes = torch.tensor([[1., 2., 3., 4.]])
    assert box_tensor(HorizontalBoxes(boxes)) is not None
    assert torch.equal(box_tensor(HorizontalBoxes(boxes)), boxes)
    assert box_tensor(boxes) is boxes
    out = image_boxes([HorizontalBoxes(boxes), torch.zeros(0, 4)], 2)
    assert torch.equal(out[0], boxes) and out[1].shape == (0, 4)
    with pytest.raises(ValueError, match='2 gt_bboxes entries for 1'):
        image_boxes([boxes, boxes], 1)
