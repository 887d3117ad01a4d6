"""Seeded inputs of bench/gpu_parity_cases.py's cases: FPN features, and
rotated and horizontal boxes on a 256 px input.

Rotated boxes are drawn so that no cell centre of any level lies within
0.01 px of a box edge: so close to an edge, the point-in-box test may go
either way in float32 on either device (different sin/cos, fused
multiply-add), a rounding difference rather than a bug.
"""
import math
from typing import Any, Dict, List, Tuple

import torch
from mmengine.structures import InstanceData
from torch import Tensor

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm import functional as fn

INPUT = (256, 256)  # padded batch input (H, W)
STRIDES = (8, 16, 32, 64, 128)
CHANNELS = 16


def uniform(gen: torch.Generator, low: float, high: float, *shape:
            int) -> Tensor:
    return low + (high - low) * torch.rand(*shape, generator=gen)


def level_sizes(strides=STRIDES) -> List[Tuple[int, int]]:
    return [(INPUT[0] // s, INPUT[1] // s) for s in strides]


def features(gen: torch.Generator,
             grad: bool,
             strides=STRIDES,
             num: int = 2,
             channels: int = CHANNELS) -> List[Tensor]:
    """``(num, channels, H_l, W_l)`` per level; ``grad``: leaves that
    require a gradient (the student's)."""
    return [
        torch.randn(num, channels, h, w, generator=gen).requires_grad_(grad)
        for h, w in level_sizes(strides)
    ]


def _all_cell_centers(strides=STRIDES) -> Tensor:
    return torch.cat([
        fn.cell_centers(size, (s, s), dtype=torch.float64)
        for size, s in zip(level_sizes(strides), strides)
    ])


def rotated_boxes(gen: torch.Generator,
                  num: int,
                  large: bool = False,
                  margin: float = 1e-2,
                  strides=STRIDES) -> Tensor:
    """``(num, 5)`` rotated boxes centred in the input, none with an edge
    within ``margin`` px of a cell centre of any level; ``large``: sides
    120-200 px, which RoI extraction takes from the second FPN level."""
    sides = ((120, 200), (110, 160)) if large else ((10, 100), (6, 48))
    points = _all_cell_centers(strides)
    kept = []
    for _ in range(100 * num):
        if len(kept) == num:
            break
        box = torch.cat([
            uniform(gen, 24, INPUT[1] - 24, 1),
            uniform(gen, 24, INPUT[0] - 24, 1),
            uniform(gen, *sides[0], 1),
            uniform(gen, *sides[1], 1),
            uniform(gen, -math.pi / 2, math.pi / 2, 1)
        ])
        cx, cy, w, h, angle = box.double().tolist()
        dx, dy = points[:, 0] - cx, points[:, 1] - cy
        along_w = dx * math.cos(angle) + dy * math.sin(angle)
        along_h = -dx * math.sin(angle) + dy * math.cos(angle)
        gaps = torch.stack([along_w.abs() - w / 2, along_h.abs() - h / 2])
        if gaps.abs().min() > margin:
            kept.append(box)
    if len(kept) < num:
        raise RuntimeError(f'drew {len(kept)} of {num} clear boxes')
    return torch.stack(kept)


def horizontal_boxes(gen: torch.Generator,
                     num: int,
                     large: bool = False) -> Tensor:
    """``(num, 4)`` x1y1x2y2 boxes; ``large`` as :func:`rotated_boxes`."""
    low, high = (120, 200) if large else (6, 96)
    xy = uniform(gen, 0, INPUT[0] - high, num, 2)
    return torch.cat([xy, xy + uniform(gen, low, high, num, 2)], dim=1)


def jittered(gen: torch.Generator, boxes: Tensor, pixels: float) -> Tensor:
    """Boxes moved by up to ``pixels``, sides scaled by up to 5%."""
    if boxes.size(1) == 4:
        return boxes + uniform(gen, -pixels, pixels, *boxes.shape)
    out = boxes.clone()
    out[:, :2] += uniform(gen, -pixels, pixels, len(boxes), 2)
    out[:, 2:4] *= uniform(gen, 0.95, 1.05, len(boxes), 2)
    out[:, 4] += uniform(gen, -0.05, 0.05, len(boxes))
    return out


def predictions(gen: torch.Generator, gt: Tensor, labels: Tensor,
                score_range: Tuple[float, float], pixels: float,
                keep: int) -> InstanceData:
    """The first ``keep`` GT boxes found (jittered), two false positives
    and one candidate below ISD's score threshold."""
    found = jittered(gen, gt[:keep], pixels)
    extra = (
        rotated_boxes(gen, 3) if gt.size(1) == 5 else horizontal_boxes(gen, 3))
    scores = torch.cat(
        [uniform(gen, *score_range, keep),
         torch.tensor([0.6, 0.7, 0.1])])
    return InstanceData(
        bboxes=torch.cat([found, extra]),
        scores=scores,
        labels=torch.cat([labels[:keep],
                          torch.tensor([0, 1, 2])]))


def feature_pair(gen: torch.Generator, strides=STRIDES) -> Dict[str, Any]:
    return dict(
        student_feats=features(gen, True, strides),
        teacher_feats=features(gen, False, strides))
