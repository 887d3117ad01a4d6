"""RoI features of horizontal or rotated boxes from FPN levels."""
from typing import List, Sequence

import torch
from torch import Tensor


def map_roi_levels(boxes: Tensor, num_levels: int,
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
    if boxes.shape[-1] == 5:
        w, h = boxes[:, 2], boxes[:, 3]
    else:
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    scale = (w.clamp(min=0) * h.clamp(min=0)).sqrt()
    levels = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return levels.clamp(min=0, max=num_levels - 1).long()


def roi_features(feats: Sequence[Tensor],
                 boxes: List[Tensor],
                 strides: Sequence[float],
                 output_size: int = 7,
                 finest_scale: float = 56.) -> Tensor:
    """Pool (output_size x output_size) features for boxes of a batch.

    Rotated boxes use mmcv's ``RoIAlignRotated`` (clockwise angles, as
    mmrotate's RoI extractors), horizontal ones ``RoIAlign`` (aligned).

    Args:
        feats (Sequence[Tensor]): FPN levels, each (N, C, H_l, W_l).
        boxes (list[Tensor]): Per image (R_i, 4|5) boxes in input pixels.
        strides (Sequence[float]): Stride of each level.
        output_size (int): Pooled side. Defaults to 7.
        finest_scale (float): See :func:`map_roi_levels`. Defaults to 56.

    Returns:
        Tensor: (sum R_i, C, output_size, output_size).
    """
    from mmcv.ops import RoIAlign, RoIAlignRotated
    rois = torch.cat([
        torch.cat([b.new_full((len(b), 1), i), b.float()], dim=1)
        for i, b in enumerate(boxes)
    ])
    num_channels = feats[0].shape[1]
    out = feats[0].new_zeros(len(rois), num_channels, output_size,
                             output_size)
    if len(rois) == 0:
        return out
    rotated = rois.shape[1] == 6
    levels = map_roi_levels(rois[:, 1:], len(feats), finest_scale)
    for level, (feat, stride) in enumerate(zip(feats, strides)):
        index = (levels == level).nonzero(as_tuple=True)[0]
        if len(index) == 0:
            continue
        if rotated:
            op = RoIAlignRotated(
                output_size, 1.0 / stride, sampling_ratio=2, clockwise=True)
        else:
            op = RoIAlign(
                output_size, 1.0 / stride, sampling_ratio=2, aligned=True)
        out = out.index_copy(0, index, op(feat, rois[index]))
    return out
