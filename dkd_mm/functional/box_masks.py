"""Masks on a feature grid: which cells lie in which ground-truth boxes.

Every function is vectorised over boxes and cells (a ``(K, H * W)``
broadcast); none loops over boxes in Python.

Conventions:

* A feature map of size ``(H, W)`` computed from a padded batch of size
  ``batch_input_shape = (H_in, W_in)`` has strides
  ``(stride_h, stride_w) = (H_in / H, W_in / W)``.  Cell ``(h, w)`` has its
  centre at ``x = (w + 0.5) * stride_w``, ``y = (h + 0.5) * stride_h`` in
  image coordinates.
* Horizontal boxes are ``(K, 4)`` ``(x1, y1, x2, y2)``; rotated boxes are
  ``(K, 5)`` ``(cx, cy, w, h, angle)`` with the angle in radians, as in
  mmrotate's ``RotatedBoxes``: the box's ``w`` side points along
  ``(cos(angle), sin(angle))`` in image coordinates (y down).
* A box is half-open: a point on its left/top edge (in the box's own
  frame) is inside, a point on its right/bottom edge is not, so adjacent
  boxes do not share cells and a zero-area box contains nothing.
"""
import math
from typing import Tuple

import torch
from torch import Tensor

from .boxes import box_areas


def feature_strides(feat_size: Tuple[int, int],
                    batch_input_shape: Tuple[int, int]) -> Tuple[float, float]:
    """Strides of a feature map with respect to the padded input.

    Args:
        feat_size (tuple[int, int]): Feature map size ``(H, W)``.
        batch_input_shape (tuple[int, int]): Padded input size
            ``(H_in, W_in)``.

    Returns:
        tuple[float, float]: ``(stride_h, stride_w)``.
    """
    return (batch_input_shape[0] / feat_size[0],
            batch_input_shape[1] / feat_size[1])


def cell_centers(feat_size: Tuple[int, int],
                 strides: Tuple[float, float],
                 device: torch.device = None,
                 dtype: torch.dtype = torch.float32) -> Tensor:
    """Image coordinates of the centres of a feature map's cells.

    Args:
        feat_size (tuple[int, int]): Feature map size ``(H, W)``.
        strides (tuple[float, float]): ``(stride_h, stride_w)``.
        device (torch.device, optional): Device of the output.
            Defaults to None (the default device).
        dtype (torch.dtype): Dtype of the output. Defaults to torch.float32.

    Returns:
        Tensor: ``(H * W, 2)`` centres ``(x, y)``, row-major (cell
        ``(h, w)`` is row ``h * W + w``).
    """
    height, width = feat_size
    ys = (torch.arange(height, device=device, dtype=dtype) + 0.5) * strides[0]
    xs = (torch.arange(width, device=device, dtype=dtype) + 0.5) * strides[1]
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


def points_in_boxes(points: Tensor, boxes: Tensor) -> Tensor:
    """Which points lie inside which boxes (horizontal or rotated).

    Args:
        points (Tensor): ``(P, 2)`` points ``(x, y)``.
        boxes (Tensor): ``(K, 4)`` horizontal ``(x1, y1, x2, y2)`` or
            ``(K, 5)`` rotated ``(cx, cy, w, h, angle)`` boxes.

    Returns:
        Tensor: ``(K, P)`` bool, True where point ``p`` is in box ``k``.
    """
    px, py = points[:, 0][None], points[:, 1][None]  # (1, P)
    if boxes.size(-1) == 4:
        x1, y1, x2, y2 = boxes[:, :, None].unbind(dim=1)  # (K, 1) each
        return (px >= x1) & (px < x2) & (py >= y1) & (py < y2)
    if boxes.size(-1) != 5:
        raise ValueError('boxes must be (K, 4) or (K, 5), got '
                         f'{tuple(boxes.shape)}')
    cx, cy, w, h, angle = boxes[:, :, None].unbind(dim=1)  # (K, 1) each
    cos, sin = torch.cos(angle), torch.sin(angle)
    dx, dy = px - cx, py - cy  # (K, P)
    # Coordinates of the point along the box's w and h sides.
    along_w = dx * cos + dy * sin
    along_h = -dx * sin + dy * cos
    return ((along_w >= -w / 2) & (along_w < w / 2) & (along_h >= -h / 2)
            & (along_h < h / 2))


def foreground_mask(boxes: Tensor, feat_size: Tuple[int, int],
                    strides: Tuple[float, float]) -> Tensor:
    """Scale-normalised foreground mask of one image on one feature level.

    A cell whose centre lies in at least one box gets the largest
    ``1 / max(1, area_k / (stride_h * stride_w))`` over the boxes ``k``
    containing it (a box's area counted in cells of this level), so every
    object carries about the same total weight whatever its size; every
    other cell gets 0.

    Args:
        boxes (Tensor): ``(K, 4)`` horizontal or ``(K, 5)`` rotated boxes of
            one image, in padded-input pixels. ``K`` may be 0.
        feat_size (tuple[int, int]): Feature map size ``(H, W)``.
        strides (tuple[float, float]): ``(stride_h, stride_w)``.

    Returns:
        Tensor: ``(H, W)`` mask in ``[0, 1]``, dtype and device of ``boxes``.
    """
    height, width = feat_size
    if boxes.size(0) == 0:
        return boxes.new_zeros(height, width)
    points = cell_centers(feat_size, strides, boxes.device, boxes.dtype)
    inside = points_in_boxes(points, boxes)  # (K, H * W)
    cell_area = strides[0] * strides[1]
    inv_area = 1.0 / (box_areas(boxes) / cell_area).clamp(min=1.0)  # (K,)
    mask = torch.where(inside, inv_area[:, None], inv_area.new_zeros(()))
    return mask.amax(dim=0).reshape(height, width)


def background_weights(discrepancy: Tensor,
                       bg_mask: Tensor,
                       tau: float = 1.0,
                       topk_ratio: float = 1.0,
                       normalize: bool = True) -> Tensor:
    """Dynamic background weights: a softmax of the discrepancy over each
    image's background cells.

    ``weights = B * softmax_{cells in B'}(D' / tau)`` with ``B`` the
    background, ``B'`` its ``ceil(topk_ratio * |B|)`` cells of largest
    discrepancy, and ``D' = D / mean_B(D)`` when ``normalize`` (else
    ``D' = D``).  The weights of an image sum to 1, or are all 0 when it
    has no background cell.

    Args:
        discrepancy (Tensor): ``(N, H, W)`` teacher-student discrepancy
            ``D``, e.g. ``mean_c (T - S) ** 2``; should be detached.
        bg_mask (Tensor): ``(N, H, W)`` bool, True on background cells.
        tau (float): Softmax temperature. Defaults to 1.0.
        topk_ratio (float): Fraction of each image's background cells,
            those of largest discrepancy, that get a weight; in (0, 1].
            Defaults to 1.0 (all of them).
        normalize (bool): Divide ``D`` by its mean over the image's
            background before the softmax, so that ``tau`` does not depend
            on the feature scale. Defaults to True.

    Returns:
        Tensor: ``(N, H, W)`` weights >= 0.
    """
    if not 0 < topk_ratio <= 1:
        raise ValueError(f'topk_ratio must be in (0, 1], got {topk_ratio}')
    num = discrepancy.size(0)
    disc = discrepancy.reshape(num, -1)
    bg = bg_mask.reshape(num, -1)
    num_bg = bg.sum(dim=1, keepdim=True)  # (N, 1)
    if normalize:
        bg_mean = (disc * bg).sum(dim=1, keepdim=True) / num_bg.clamp(min=1)
        disc = disc / bg_mean.clamp(min=torch.finfo(disc.dtype).tiny)
    keep = bg
    if topk_ratio < 1:
        ranked = torch.where(bg, disc, disc.new_tensor(-math.inf))
        order = ranked.argsort(dim=1, descending=True)
        rank = order.argsort(dim=1)  # rank 0 = largest discrepancy
        num_keep = torch.ceil(num_bg * topk_ratio)
        keep = bg & (rank < num_keep)
    logits = torch.where(keep, disc / tau, disc.new_tensor(-math.inf))
    row_max = logits.amax(dim=1, keepdim=True)
    # An image without background has row_max = -inf; 0 keeps exp finite.
    row_max = torch.where(
        keep.any(dim=1, keepdim=True), row_max, row_max.new_zeros(()))
    exp = torch.exp(logits - row_max) * keep
    weights = exp / exp.sum(dim=1, keepdim=True).clamp(min=1e-12)
    return weights.reshape_as(discrepancy)
