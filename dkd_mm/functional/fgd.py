"""Masks and global context of FGD (Yang et al., "Focal and Global Knowledge
Distillation for Detectors", CVPR 2022).

Vectorised over boxes and cells (see :mod:`.box_masks`); the only Python
loop is over the images of a batch.
"""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .box_masks import foreground_mask


def fgd_masks(gt_bboxes: List[Tensor], feat_size: Tuple[int, int],
              strides: Tuple[float, float]) -> Tuple[Tensor, Tensor]:
    """FGD's scale-normalised foreground and uniform background masks.

    ``fg_mask`` is ``1 / max(1, box area in cells)`` on cells whose centre
    lies in a box, the largest over overlapping boxes (the paper's "smaller
    box" rule), else 0. ``bg_mask`` is 1 on every other cell divided by
    their number, so it sums to 1 per image (0 when no cell is background).

    Args:
        gt_bboxes (list[Tensor]): Per image, ``(K_i, 4)`` horizontal
            ``(x1, y1, x2, y2)`` or ``(K_i, 5)`` rotated
            ``(cx, cy, w, h, angle)`` boxes in padded-input pixels; ``K_i``
            may be 0.
        feat_size (tuple[int, int]): Feature map size ``(H, W)``.
        strides (tuple[float, float]): ``(stride_h, stride_w)``.

    Returns:
        tuple[Tensor, Tensor]: ``fg_mask`` and ``bg_mask``, each
        ``(N, H, W)`` float32 on the boxes' device.
    """
    # float32 whatever the feature dtype: boxes are in pixels.
    fg_mask = torch.stack([
        foreground_mask(boxes.float(), feat_size, strides)
        for boxes in gt_bboxes
    ])
    bg_cells = (fg_mask == 0).float()
    num_bg = bg_cells.sum(dim=(1, 2), keepdim=True).clamp(min=1)
    return fg_mask, bg_cells / num_bg


def global_context(feat: Tensor, logits: Tensor) -> Tensor:
    """GcBlock context modelling: cells pooled by a softmax over ``H * W``.

    Args:
        feat (Tensor): ``(N, C, H, W)`` feature map.
        logits (Tensor): ``(N, 1, H, W)`` pooling logits (FGD's
            ``conv_mask`` of ``feat``).

    Returns:
        Tensor: ``(N, C, 1, 1)`` context ``sum_hw softmax(logits) * feat``.
    """
    weights = F.softmax(logits.flatten(2), dim=2)  # (N, 1, H * W)
    context = (feat.flatten(2) * weights).sum(dim=2)  # (N, C)
    return context[:, :, None, None]
