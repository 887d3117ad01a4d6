"""RoI features of horizontal or rotated boxes from FPN levels."""
from typing import List, Sequence, Tuple, Union

import torch
from torch import Tensor

from .boxes import box_areas

Stride = Union[float, Tuple[float, float]]


def map_roi_levels(boxes: Tensor,
                   num_levels: int,
                   finest_scale: float = 56.) -> Tensor:
    """FPN level of each box, as mmdet's ``SingleRoIExtractor`` maps it.

    level = floor(log2(sqrt(w * h) / finest_scale + 1e-6)), clamped to
    [0, num_levels - 1].

    Args:
        boxes (Tensor): (R, 4) x1y1x2y2 or (R, 5) cx,cy,w,h,angle.
        num_levels (int): Number of levels.
        finest_scale (float): Scale of level 0. Defaults to 56.

    Returns:
        Tensor: (R,) long levels.
    """
    scale = box_areas(boxes).sqrt()
    levels = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return levels.clamp(min=0, max=num_levels - 1).long()


def roi_features(feats: Sequence[Tensor],
                 boxes: List[Tensor],
                 strides: Sequence[Stride],
                 output_size: int = 7,
                 finest_scale: float = 56.) -> Tensor:
    """Pool (output_size x output_size) features for boxes of a batch.

    Rotated boxes use mmcv's ``RoIAlignRotated`` (clockwise angles, as
    mmrotate's RoI extractors), horizontal ones ``RoIAlign`` (aligned).

    Args:
        feats (Sequence[Tensor]): FPN levels, each (N, C, H_l, W_l), ``C``
            the same on every level.
        boxes (list[Tensor]): Per image (R_i, 4|5) boxes in input pixels.
        strides (Sequence[float | tuple[float, float]]): Stride of each
            level, ``(stride_h, stride_w)`` (see
            :func:`~dkd_mm.functional.feature_strides`) or one number for
            both. RoIAlign takes one scale: where the two differ, the RoIs
            are scaled to the level's cells first, exactly for horizontal
            boxes; a rotated box's sides along their scaled directions
            (exact at multiples of pi / 2).
        output_size (int): Pooled side. Defaults to 7.
        finest_scale (float): See :func:`map_roi_levels`. Defaults to 56.

    Returns:
        Tensor: (sum R_i, C, output_size, output_size).
    """
    from mmcv.ops import RoIAlign, RoIAlignRotated
    rois = torch.cat([
        torch.cat([b.new_full(
            (len(b), 1), i), b.float()], dim=1) for i, b in enumerate(boxes)
    ])
    num_channels = feats[0].shape[1]
    if any(feat.shape[1] != num_channels for feat in feats):
        raise ValueError('RoI features are pooled into one tensor, so every '
                         'level needs the same channels, got '
                         f'{[feat.shape[1] for feat in feats]}')
    out = feats[0].new_zeros(len(rois), num_channels, output_size, output_size)
    if len(rois) == 0:
        return out
    rotated = rois.shape[1] == 6
    levels = map_roi_levels(rois[:, 1:], len(feats), finest_scale)
    for level, (feat, stride) in enumerate(zip(feats, strides)):
        index = (levels == level).nonzero(as_tuple=True)[0]
        if len(index) == 0:
            continue
        level_rois, scale = _rois_at_scale(rois[index], stride)
        if rotated:
            op = RoIAlignRotated(
                output_size, scale, sampling_ratio=2, clockwise=True)
        else:
            op = RoIAlign(output_size, scale, sampling_ratio=2, aligned=True)
        # mmcv's RoIAlign(Rotated) kernels index the memory as if it were
        # contiguous: a permuted or sliced map is read wrongly, silently.
        out = out.index_copy(0, index, op(feat.contiguous(), level_rois))
    return out


def _rois_at_scale(rois: Tensor, stride: Stride) -> Tuple[Tensor, float]:
    """RoIs ``(R, 5|6)`` and the one spatial scale RoIAlign applies."""
    stride_h, stride_w = (stride,
                          stride) if isinstance(stride,
                                                (int, float)) else stride
    if stride_h == stride_w:
        return rois, 1.0 / stride_h
    scale_x, scale_y = 1.0 / stride_w, 1.0 / stride_h
    if rois.shape[1] == 5:  # batch index, x1, y1, x2, y2
        return rois * rois.new_tensor([1, scale_x, scale_y, scale_x, scale_y
                                       ]), 1.0
    # Batch index, cx, cy, w, h, angle: the w side's direction
    # (cos, sin) becomes (scale_x cos, scale_y sin) in cells, the h side's
    # (-sin, cos) likewise; exact at multiples of pi / 2.
    index, cx, cy, w, h, angle = rois.unbind(dim=1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    return torch.stack([
        index, cx * scale_x, cy * scale_y,
        w * torch.hypot(scale_x * cos, scale_y * sin),
        h * torch.hypot(scale_x * sin, scale_y * cos),
        torch.atan2(scale_y * sin, scale_x * cos)
    ],
                       dim=1), 1.0
