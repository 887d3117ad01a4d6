"""Masks on a feature grid: which cells lie in which ground-truth boxes.

Every function is vectorised tensor code; none loops over boxes in Python.
:func:`points_in_boxes` tests every point against every box (a
``(K, P)`` broadcast); :func:`foreground_mask` tests each box only against
the cells of its bounding window on the grid, all boxes in one ragged
batch, with the same per-cell maths, so its masks are those of the test
over every cell, bit for bit, at a cost that grows with the boxes' area
instead of ``K * H * W``.

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
from typing import List, Tuple

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
    ys, xs = _axis_centers(feat_size, strides, device, dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


def _axis_centers(feat_size: Tuple[int, int], strides: Tuple[float, float],
                  device: torch.device,
                  dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
    """``(H,)`` y and ``(W,)`` x image coordinates of the cell centres."""
    height, width = feat_size
    ys = (torch.arange(height, device=device, dtype=dtype) + 0.5) * strides[0]
    xs = (torch.arange(width, device=device, dtype=dtype) + 0.5) * strides[1]
    return ys, xs


def _box_params(boxes: Tensor) -> List[Tensor]:
    """The per-box operands of the in-box test, each ``(K, 1)``.

    ``x1, y1, x2, y2`` for horizontal boxes; ``cx, cy, cos, sin, w / 2,
    h / 2`` for rotated ones.  Computed once, in one place, so that every
    caller tests points with the same bits.
    """
    if boxes.size(-1) == 4:
        return list(boxes[:, :, None].unbind(dim=1))
    if boxes.dim() != 2 or boxes.size(-1) != 5:
        raise ValueError('boxes must be (K, 4) or (K, 5), got '
                         f'{tuple(boxes.shape)}')
    cx, cy, w, h, angle = boxes[:, :, None].unbind(dim=1)
    return [cx, cy, torch.cos(angle), torch.sin(angle), w / 2, h / 2]


def _inside(px: Tensor, py: Tensor, params: List[Tensor]) -> Tensor:
    """The half-open in-box test of points ``(px, py)`` against boxes given
    by :func:`_box_params`; all operands broadcast together."""
    if len(params) == 4:
        x1, y1, x2, y2 = params
        return (px >= x1) & (px < x2) & (py >= y1) & (py < y2)
    cx, cy, cos, sin, half_w, half_h = params
    dx, dy = px - cx, py - cy
    # Coordinates of the point along the box's w and h sides.
    along_w = dx * cos + dy * sin
    along_h = -dx * sin + dy * cos
    return ((along_w >= -half_w) & (along_w < half_w) & (along_h >= -half_h)
            & (along_h < half_h))


def points_in_boxes(points: Tensor, boxes: Tensor) -> Tensor:
    """Which points lie inside which boxes (horizontal or rotated).

    Args:
        points (Tensor): ``(P, 2)`` points ``(x, y)``.
        boxes (Tensor): ``(K, 4)`` horizontal ``(x1, y1, x2, y2)`` or
            ``(K, 5)`` rotated ``(cx, cy, w, h, angle)`` boxes.

    Returns:
        Tensor: ``(K, P)`` bool, True where point ``p`` is in box ``k``.
    """
    params = _box_params(boxes)
    return _inside(points[:, 0][None], points[:, 1][None], params)


def _box_windows(params: List[Tensor], feat_size: Tuple[int, int],
                 strides: Tuple[float, float]) -> Tuple[Tensor, Tensor]:
    """Per box, a window of cells of the grid that holds every cell the
    in-box test accepts: the cells whose centres lie in the box's
    axis-aligned bounding rectangle, widened by one cell and by the
    rounding error of the test, clipped to the grid.

    Returns:
        tuple[Tensor, Tensor]: ``first`` and ``size``, each ``(K, 2)``
        int64 ``(row, column)``: the window is rows
        ``[first[:, 0], first[:, 0] + size[:, 0])`` and likewise columns.
        A box whose bounds are NaN gets the whole grid.
    """
    if len(params) == 4:
        x1, y1, x2, y2 = params
        low, high = torch.cat([y1, x1], 1), torch.cat([y2, x2], 1)
    else:
        cx, cy, cos, sin, half_w, half_h = params
        extent = torch.cat([(half_w * sin).abs() + (half_h * cos).abs(),
                            (half_w * cos).abs() + (half_h * sin).abs()], 1)
        center = torch.cat([cy, cx], 1)
        low, high = center - extent, center + extent  # (K, 2) (y, x)
    stride = low.new_tensor(strides)
    grid = low.new_tensor(feat_size)
    # The test rounds at about eps times the magnitudes it handles; one
    # cell plus a multiple of that keeps every accepted centre inside.
    magnitude = (low.abs() + high.abs()).sum(
        1, keepdim=True) + float(feat_size[0] * strides[0] +
                                 feat_size[1] * strides[1])
    slack = stride + 16 * torch.finfo(low.dtype).eps * magnitude
    # Centre of cell i is (i + 0.5) * stride.
    first = torch.ceil((low - slack) / stride - 0.5)
    end = torch.floor((high + slack) / stride - 0.5) + 1
    first = torch.where(first.isnan(), first.new_zeros(()), first)
    end = torch.where(end.isnan(), grid, end)
    first = torch.minimum(first.clamp(min=0), grid)
    end = torch.minimum(end.clamp(min=0), grid)
    return first.long(), (end - first).clamp(min=0).long()


def foreground_mask(boxes: Tensor, feat_size: Tuple[int, int],
                    strides: Tuple[float, float]) -> Tensor:
    """Scale-normalised foreground mask of one image on one feature level.

    A cell whose centre lies in at least one box gets the largest
    ``1 / max(1, area_k / (stride_h * stride_w))`` over the boxes ``k``
    containing it (a box's area counted in cells of this level), so every
    object carries about the same total weight whatever its size; every
    other cell gets 0.

    Each box is tested only against the cells of its window (see
    :func:`_box_windows`), all windows at once as one ragged batch of
    ``sum_k window_k`` cells; the per-cell maths is that of
    :func:`points_in_boxes`, so the mask is bit-identical to testing every
    box against every cell.  The batch size is read once on the host (one
    device synchronisation per call on a GPU).

    Args:
        boxes (Tensor): ``(K, 4)`` horizontal or ``(K, 5)`` rotated boxes of
            one image, in padded-input pixels. ``K`` may be 0.
        feat_size (tuple[int, int]): Feature map size ``(H, W)``.
        strides (tuple[float, float]): ``(stride_h, stride_w)``.

    Returns:
        Tensor: ``(H, W)`` mask in ``[0, 1]``, dtype and device of ``boxes``.
    """
    height, width = feat_size
    mask = boxes.new_zeros(height * width)
    params = _box_params(boxes)
    first, size = _box_windows(params, feat_size, strides)
    counts = size[:, 0] * size[:, 1]  # (K,) cells per window
    total = int(counts.sum())
    if total == 0:
        return mask.reshape(height, width)
    cell_area = strides[0] * strides[1]
    inv_area = 1.0 / (box_areas(boxes) / cell_area).clamp(min=1.0)  # (K,)
    # Cell j of the batch is cell `offset` (row-major) of box `box`'s window.
    box = torch.repeat_interleave(counts, output_size=total)  # (N,)
    starts = counts.cumsum(0) - counts
    index = torch.stack([starts, size[:, 1], first[:, 0], first[:, 1]])
    start, num_cols, row0, col0 = index.index_select(1, box)  # (N,) each
    offset = torch.arange(total, device=boxes.device) - start
    row_in = torch.div(offset, num_cols, rounding_mode='floor')
    row = row0 + row_in
    col = col0 + offset - row_in * num_cols
    ys, xs = _axis_centers(feat_size, strides, boxes.device, boxes.dtype)
    values = torch.cat(params + [inv_area[:, None]], 1).t()  # (m + 1, K)
    *params_n, inv_area_n = values.index_select(1, box).unbind(0)
    inside = _inside(xs[col], ys[row], params_n)
    mask.scatter_reduce_(
        0, row * width + col,
        torch.where(inside, inv_area_n, inv_area_n.new_zeros(())), 'amax')
    return mask.reshape(height, width)


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
