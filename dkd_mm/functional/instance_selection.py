"""Dynamic instance selection (ISD): the student judges teacher instances.

All functions work on one batch at a time with per-image lists, and on
horizontal (K, 4) x1y1x2y2 or rotated (K, 5) cx,cy,w,h,angle boxes.
"""
import math
from dataclasses import dataclass
from typing import List, Tuple

import torch
from torch import Tensor

MISS_LOSS = -math.log(0.05) + 1.0


def pairwise_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """IoU between two sets of boxes of the same kind.

    Args:
        boxes1 (Tensor): (K, 4) or (K, 5) boxes.
        boxes2 (Tensor): (G, 4) or (G, 5) boxes.

    Returns:
        Tensor: (K, G) IoUs; rotated ones by mmcv's ``box_iou_rotated``.
    """
    if boxes1.numel() == 0 or boxes2.numel() == 0:
        return boxes1.new_zeros(boxes1.shape[0], boxes2.shape[0])
    if boxes1.shape[-1] == 5:
        from mmcv.ops import box_iou_rotated
        return box_iou_rotated(boxes1.float(), boxes2.float())
    from mmdet.structures.bbox import bbox_overlaps
    return bbox_overlaps(boxes1.float(), boxes2.float())


def instance_det_losses(boxes: Tensor,
                        scores: Tensor,
                        labels: Tensor,
                        gt_boxes: Tensor,
                        gt_labels: Tensor,
                        iou_thr: float = 0.5,
                        eps: float = 1e-6) -> Tuple[Tensor, Tensor]:
    """Detection loss of each predicted instance against the ground truth.

    An instance is matched to the GT box of highest IoU u if u >= iou_thr
    and the labels agree; its loss is l = -log(p) + (1 - u) for score p.

    Args:
        boxes (Tensor): (K, 4|5) predicted boxes.
        scores (Tensor): (K,) scores.
        labels (Tensor): (K,) labels.
        gt_boxes (Tensor): (G, 4|5) ground-truth boxes.
        gt_labels (Tensor): (G,) labels.
        iou_thr (float): Matching threshold. Defaults to 0.5.
        eps (float): Floor of p inside the log. Defaults to 1e-6.

    Returns:
        tuple[Tensor, Tensor]: (K,) losses (inf where unmatched) and (K,)
        matched GT indices (-1 where unmatched).
    """
    iou = pairwise_iou(boxes, gt_boxes)
    if iou.shape[1] == 0:
        matched = torch.full_like(labels, -1, dtype=torch.long)
        return torch.full_like(scores, float('inf')), matched
    best_iou, best_gt = iou.max(dim=1)
    ok = (best_iou >= iou_thr) & (gt_labels[best_gt] == labels)
    losses = -scores.clamp(min=eps).log() + (1 - best_iou)
    losses = torch.where(ok, losses, torch.full_like(losses, float('inf')))
    return losses, torch.where(ok, best_gt, torch.full_like(best_gt, -1))


def gt_det_losses(inst_losses: Tensor,
                  matched: Tensor,
                  num_gt: int,
                  miss_loss: float = MISS_LOSS) -> Tensor:
    """A detector's loss for each GT box: the least of its matched instances.

    Args:
        inst_losses (Tensor): (K,) instance losses.
        matched (Tensor): (K,) matched GT indices, -1 if none.
        num_gt (int): G.
        miss_loss (float): The loss of a GT box no instance matches.
            Defaults to -log(0.05) + 1.

    Returns:
        Tensor: (G,) losses.
    """
    out = inst_losses.new_full((num_gt, ), miss_loss)
    keep = matched >= 0
    if keep.any():
        out = out.scatter_reduce(
            0, matched[keep], inst_losses[keep], reduce='amin')
    return out


@dataclass
class Selection:
    """The outcome of ISD's self-judgment over one batch (K candidates).

    Attributes:
        selected (Tensor): (K,) bool, instances to distil.
        outlier (Tensor): (K,) bool, matched but rejected as outliers.
        false_positive (Tensor): (K,) bool, matched to no GT box.
        weights (Tensor): (K,) weights, summing to 1 over ``selected``.
        matched_gt (Tensor): (K,) index of the matched GT box among all
            the batch's GT boxes (the batch-flat index that
            ``flatten_gt_index`` builds), -1 if none.
    """
    selected: Tensor
    outlier: Tensor
    false_positive: Tensor
    weights: Tensor
    matched_gt: Tensor


OUTLIER_RULES = ('mean_std', 'median_mad')


def outlier_limit(losses: Tensor, k_std: float, rule: str) -> Tensor:
    """The loss above which a matched teacher instance is an outlier.

    Args:
        losses (Tensor): (M,) matched teacher losses, M >= 1.
        k_std (float): Multiplier of the spread.
        rule (str): ``'mean_std'``: mean + k std (population);
            ``'median_mad'``: median + k * 1.4826 * median(|l - median|).

    Returns:
        Tensor: Scalar limit.
    """
    if rule == 'mean_std':
        return losses.mean() + k_std * losses.std(unbiased=False)
    # The lower median (torch's), for an even count as for an odd one.
    median = losses.median()
    return median + k_std * 1.4826 * (losses - median).abs().median()


def select_instances(teacher_losses: Tensor,
                     matched_gt: Tensor,
                     student_gt_losses: Tensor,
                     gt_weights: Tensor,
                     k_std: float = 1.0,
                     rule: str = 'mean_std') -> Selection:
    """Keep teacher instances that beat the student and are no outliers.

    Instance i matched to GT g is selected iff l_T(i) < l_S(g) and
    l_T(i) <= limit, the limit over the matched teacher losses being
    ``mean + k_std * std`` (population std; ``rule='mean_std'``), which for
    a normal spread always rejects about the worst 16% with k_std = 1, or
    ``median + k_std * 1.4826 * MAD`` (``'median_mad'``, the median absolute
    deviation scaled to a normal std), which rejects only what lies far
    from the bulk, and nothing where the losses agree.  Weights w_i =
    (l_S(g) - l_T(i)) * gt_weights[g], normalised over the selected
    instances.

    Args:
        teacher_losses (Tensor): (K,) l_T, inf where unmatched.
        matched_gt (Tensor): (K,) GT index into ``student_gt_losses``
            (batch-flat), -1 if unmatched.
        student_gt_losses (Tensor): (G,) l_S per GT box.
        gt_weights (Tensor): (G,) extra weight per GT box (TSA's omega).
        k_std (float): Outlier threshold in standard deviations (or in
            MAD-estimated ones). Defaults to 1.0.
        rule (str): ``'mean_std'`` or ``'median_mad'``.
            Defaults to 'mean_std'.

    Returns:
        Selection: Masks and weights over the K candidates.
    """
    if rule not in OUTLIER_RULES:
        raise ValueError(f'rule must be one of {OUTLIER_RULES}, got {rule!r}')
    matched = matched_gt >= 0
    false_positive = ~matched
    zeros = torch.zeros_like(teacher_losses)
    if not matched.any():
        none = torch.zeros_like(matched)
        return Selection(none, none, false_positive, zeros, matched_gt)
    matched_losses = teacher_losses[matched]
    limit = outlier_limit(matched_losses, k_std, rule)
    gt_index = matched_gt.clamp(min=0)
    margin = student_gt_losses[gt_index] - teacher_losses
    better = matched & (margin > 0)
    outlier = matched & (teacher_losses > limit)
    selected = better & ~outlier
    weights = torch.where(selected, margin * gt_weights[gt_index], zeros)
    total = weights.sum()
    if total > 0:
        weights = weights / total
    return Selection(selected, outlier, false_positive, weights, matched_gt)


def flatten_gt_index(matched: List[Tensor], num_gts: List[int]) -> Tensor:
    """Per-image GT indices (-1 for none) to indices into the batch's GTs."""
    offsets = torch.tensor([0] + list(num_gts[:-1])).cumsum(0).tolist()
    return torch.cat(
        [torch.where(m >= 0, m + off, m)
         for m, off in zip(matched, offsets)]) if matched else torch.zeros(
             0, dtype=torch.long)
