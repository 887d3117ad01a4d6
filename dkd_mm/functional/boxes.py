"""Box tensors, their centres and sides, for horizontal and rotated boxes.

Horizontal boxes are ``(K, 4)`` ``(x1, y1, x2, y2)``; rotated boxes are
``(K, 5)`` ``(cx, cy, w, h, angle)`` (radians), as in mmrotate's
``RotatedBoxes``.
"""
from typing import Any, List, Sequence

from torch import Tensor


def box_tensor(boxes: Any) -> Tensor:
    """A plain ``(K, 4)`` or ``(K, 5)`` tensor from a tensor or mmdet's
    ``BaseBoxes`` (which holds it in ``.tensor``)."""
    return boxes.tensor if hasattr(boxes, 'tensor') else boxes


def image_boxes(gt_bboxes: Sequence[Any], num_images: int) -> List[Tensor]:
    """One plain box tensor per image, checked against the batch size.

    Args:
        gt_bboxes (Sequence[Tensor | BaseBoxes]): Per image ``(K_i, 4|5)``
            boxes.
        num_images (int): The batch size ``N`` of the features.

    Returns:
        list[Tensor]: ``N`` tensors ``(K_i, 4|5)``.

    Raises:
        ValueError: If there are not ``N`` entries.
    """
    if len(gt_bboxes) != num_images:
        raise ValueError(f'got {len(gt_bboxes)} gt_bboxes entries for '
                         f'{num_images} images')
    return [box_tensor(b) for b in gt_bboxes]


def _check_box_dim(boxes: Tensor) -> None:
    if boxes.dim() != 2 or boxes.size(-1) not in (4, 5):
        raise ValueError('boxes must be (K, 4) or (K, 5), got '
                         f'{tuple(boxes.shape)}')


def box_sides(boxes: Tensor) -> Tensor:
    """Side lengths ``(w, h)`` of horizontal or rotated boxes.

    Args:
        boxes (Tensor): ``(K, 4)`` or ``(K, 5)`` boxes.

    Returns:
        Tensor: ``(K, 2)`` sides, ``x2 - x1, y2 - y1`` or ``w, h`` (not
        clamped: a flipped horizontal box has negative sides).
    """
    _check_box_dim(boxes)
    if boxes.size(-1) == 4:
        return boxes[:, 2:] - boxes[:, :2]
    return boxes[:, 2:4]


def box_centers(boxes: Tensor) -> Tensor:
    """Centres ``(x, y)`` of horizontal or rotated boxes.

    Args:
        boxes (Tensor): ``(K, 4)`` or ``(K, 5)`` boxes.

    Returns:
        Tensor: ``(K, 2)`` centres in the boxes' pixels.
    """
    _check_box_dim(boxes)
    if boxes.size(-1) == 4:
        return (boxes[:, :2] + boxes[:, 2:]) / 2
    return boxes[:, :2]


def box_areas(boxes: Tensor) -> Tensor:
    """Areas of horizontal ``(K, 4)`` or rotated ``(K, 5)`` boxes.

    Args:
        boxes (Tensor): ``(K, 4)`` or ``(K, 5)`` boxes.

    Returns:
        Tensor: ``(K,)`` areas in square pixels, >= 0.
    """
    sides = box_sides(boxes).clamp(min=0)
    return sides[:, 0] * sides[:, 1]
