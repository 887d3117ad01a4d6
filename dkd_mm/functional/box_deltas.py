"""Regression deltas of a predicted box relative to its target box.

A head that regresses deltas (``dx, dy, dw, dh[, dt]``) from its anchors or
proposals and computes its loss (L1, smooth L1) between the predicted and
the target deltas is, for the sides and the angle, exactly a loss on the
deltas of the predicted box relative to the target box compared with zero:
``log(pw / aw) - log(tw / aw) = log(pw / tw)``.  Only the centre offset is
normalised by the target's sides instead of the anchor's, which differ by
the anchor-target mismatch of a positive sample.  TSA uses this to keep a
head's own delta loss while it re-weights decoded boxes.
"""
import math
from typing import Optional, Sequence

import torch
from torch import Tensor

from .boxes import box_centers, box_sides


def box_deltas(pred: Tensor,
               target: Tensor,
               stds: Optional[Sequence[float]] = None,
               eps: float = 1e-6,
               min_target_side: float = 1.0) -> Tensor:
    """Deltas of ``pred`` relative to ``target``, as the box coders encode.

    Horizontal boxes ``(x1, y1, x2, y2)`` give ``(dx, dy, dw, dh)`` as
    mmdet's ``DeltaXYWHBBoxCoder``.  Rotated boxes ``(cx, cy, w, h, t)``
    (radians) give ``(dx, dy, dw, dh, dt)`` as mmrotate's
    ``DeltaXYWHTRBBoxCoder`` with ``proj_xy=True`` and ``edge_swap=True``:
    the centre offset is projected on the target's axes, and of the two
    descriptions of the predicted box, ``(w, h, t)`` and
    ``(h, w, t + pi / 2)``, the one whose angle is nearer the target's is
    used, with ``dt`` in ``[-pi / 2, pi / 2)``.

    Args:
        pred (Tensor): ``(K, 4)`` or ``(K, 5)`` predicted boxes.
        target (Tensor): Target boxes, the same shape as ``pred``.
        stds (Sequence[float], optional): The coder's ``target_stds``; the
            deltas are divided by them. Defaults to None (all 1).
        eps (float): Smallest side inside the logs, against ``log(0)``
            (``log`` of each side is taken apart: the ratio of a side to a
            zero-size target's would overflow float16). Defaults to 1e-6.
        min_target_side (float): Smallest side of ``target`` (pixels) that
            divides the centre offset: a zero-size target would give
            ``offset / eps`` (about 1e8), beyond float16's range (65504).
            A box under one pixel is degenerate; larger targets are
            unchanged. Defaults to 1.0.

    Returns:
        Tensor: ``(K, 4)`` or ``(K, 5)`` deltas; zero where ``pred`` equals
        ``target``; differentiable in ``pred``.
    """
    if pred.shape != target.shape or pred.dim() != 2 or pred.size(-1) not in (
            4, 5):
        raise ValueError('pred and target must both be (K, 4) or (K, 5), got '
                         f'{tuple(pred.shape)} and {tuple(target.shape)}')
    if pred.size(-1) == 4:
        p_ctr, t_ctr = box_centers(pred), box_centers(target)
        p_wh, t_wh = box_sides(pred), box_sides(target)
        deltas = torch.cat([(p_ctr - t_ctr) / t_wh.clamp(min=min_target_side),
                            _log_ratio(p_wh, t_wh, eps)],
                           dim=1)
    else:
        px, py, pw, ph, pt = pred.unbind(dim=1)
        tx, ty, tw, th, tt = target.unbind(dim=1)
        cos, sin = torch.cos(tt), torch.sin(tt)
        dx = (cos * (px - tx) + sin *
              (py - ty)) / tw.clamp(min=min_target_side)
        dy = (-sin * (px - tx) + cos *
              (py - ty)) / th.clamp(min=min_target_side)
        dt1 = _wrap_half_pi(pt - tt)
        dt2 = _wrap_half_pi(pt - tt + math.pi / 2)
        keep = dt1.abs() <= dt2.abs()
        dt = torch.where(keep, dt1, dt2)
        pw_, ph_ = torch.where(keep, pw, ph), torch.where(keep, ph, pw)
        dw = _log_ratio(pw_, tw, eps)
        dh = _log_ratio(ph_, th, eps)
        deltas = torch.stack([dx, dy, dw, dh, dt], dim=1)
    if stds is not None:
        deltas = deltas / deltas.new_tensor(stds)
    return deltas


def _log_ratio(side: Tensor, target_side: Tensor, eps: float) -> Tensor:
    """``log(side / target_side)``, both floored at ``eps``, as a difference
    of logs: the ratio itself overflows float16 for a zero-size target."""
    return torch.log(side.clamp(min=eps)) - torch.log(
        target_side.clamp(min=eps))


def _wrap_half_pi(angle: Tensor) -> Tensor:
    """``angle`` wrapped into ``[-pi / 2, pi / 2)``."""
    return torch.remainder(angle + math.pi / 2, math.pi) - math.pi / 2
