"""Box hardness and training-status weights (DKD's training-status-aware
weighting), shared by the TSA and ISD losses.

The hardness of a box with long side ``a`` and short side ``b`` (pixels) is

    h = 1 + lambda_ar * log(a / b) + lambda_s * max(0, log(s0 / sqrt(a b)))

so elongated boxes and boxes smaller than ``s0`` are harder (``h >= 1``,
``h = 1`` for a square of side >= ``s0``).  With the training status
``psi`` in ``[0, 1]`` the weight is ``omega = 1 + (h - 1) * psi``: uniform
at the start of training, the full hardness at the end.
"""
from typing import Union

import torch
from torch import Tensor

from .boxes import box_sides


def box_hardness(boxes: Tensor,
                 lambda_ar: float = 0.5,
                 lambda_s: float = 0.5,
                 s0: float = 32.0) -> Tensor:
    """Hardness of horizontal or rotated boxes.

    Args:
        boxes (Tensor): ``(K, 4)`` horizontal ``(x1, y1, x2, y2)`` or
            ``(K, 5)`` rotated ``(cx, cy, w, h, angle)`` boxes, in pixels.
            Sides are clamped to >= 1 pixel; computed in float32 (the
            product of two sides of a large box exceeds float16's range).
        lambda_ar (float): Weight of the aspect-ratio term. Defaults to 0.5.
        lambda_s (float): Weight of the small-size term. Defaults to 0.5.
        s0 (float): Size (sqrt of the area, pixels) below which a box
            counts as small. Defaults to 32.0.

    Returns:
        Tensor: ``(K,)`` float32 hardness >= 1 (detached from ``boxes``).
    """
    sides = box_sides(boxes.detach().float()).clamp(min=1.0)
    long_side, short_side = sides.amax(dim=1), sides.amin(dim=1)
    aspect = torch.log(long_side / short_side)
    small = torch.log(s0 / torch.sqrt(long_side * short_side)).clamp(min=0)
    return 1 + lambda_ar * aspect + lambda_s * small


def status_weights(hardness: Tensor, psi: Union[float, Tensor]) -> Tensor:
    """Training-status-aware weights ``omega = 1 + (h - 1) * psi``.

    Args:
        hardness (Tensor): ``(K,)`` hardness from :func:`box_hardness`.
        psi (float | Tensor): Training status in ``[0, 1]``
            (0: start of training, 1: end); clamped to that range.

    Returns:
        Tensor: ``(K,)`` weights, between 1 and ``hardness``.
    """
    if isinstance(psi, Tensor):
        psi = psi.clamp(0, 1)
    else:
        psi = min(max(float(psi), 0.0), 1.0)
    return 1 + (hardness - 1) * psi
