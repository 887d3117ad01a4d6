"""Training-status-aware (TSA) box regression loss of DKD (Zhang et al.,
TGRS 2021): the head's own regression loss, re-weighted per box by its
hardness as training progresses."""
from typing import Optional, Sequence, Union

import torch
from mmengine.config import ConfigDict
from torch import Tensor, nn

from dkd_mm.functional import box_deltas, box_hardness, status_weights
from dkd_mm.registry import MODELS
from dkd_mm.utils.train_status import current_train_status


@MODELS.register_module()
class TSALoss(nn.Module):
    """Wrap a box regression loss with training-status-aware box weights.

    Use it as a head's ``loss_bbox`` on decoded boxes
    (``reg_decoded_bbox=True``), so that it sees the target boxes' sizes.
    With ``delta_stds`` it keeps a delta-regressing head's own loss: the
    base loss (e.g. the head's L1) compares the deltas of each predicted box
    relative to its target box (:func:`dkd_mm.functional.box_deltas`,
    divided by the head coder's ``target_stds``) with zero, which equals
    the head's loss on anchor deltas for the sides and the angle. Without
    it the base loss compares the boxes themselves (GWD, GIoU...). For
    box ``i`` with per-box weight ``w_i``
    (the mean over the last dim of ``weight`` if it has one; 1 without
    ``weight``), base loss ``l_i`` (the base loss with
    ``reduction_override='none'``, which already includes ``w_i`` and the
    base ``loss_weight``, summed over the last dim if it has one) and
    ``omega_i = 1 + (h_i - 1) * psi`` (``h_i``: hardness of target ``i``,
    ``psi``: training status), the ``'mean'`` reduction is::

        sum_i omega_i * l_i / sum_i omega_i * w_i * sum_i w_i / Z

    with ``Z = avg_factor + eps`` when ``avg_factor`` is given, else the
    number of elements of the base loss (``n`` or ``n * k``). The weights
    are thus normalised to a weighted mean of 1 per call (``normalize=
    'call'``; a dense head calls its box loss once per FPN level, whose
    anchors are of one size, so the small-object term then largely cancels
    within a level); ``normalize='none'`` keeps ``omega`` as it is (the
    loss grows with the batch's hardness late in training; the first
    factor above is left out). With ``omega == 1``
    this is exactly the base loss's own ``'mean'`` reduction with the same
    ``weight`` and ``avg_factor``. Only the boxes of non-zero weight are
    computed (a dense head passes every prior, its negatives with weight
    0): the others add nothing to any reduction. ``'sum'`` is ``Z`` times
    ``'mean'``; ``'none'`` returns the re-weighted base elements.

    Args:
        base_loss (ConfigDict | dict): The wrapped loss, e.g.
            ``dict(type='mmrotate.GDLoss', loss_type='gwd')`` or
            ``dict(type='mmdet.GIoULoss')``.
        lambda_ar (float): Weight of the aspect-ratio hardness.
            Defaults to 0.5.
        lambda_s (float): Weight of the small-size hardness.
            Defaults to 0.5.
        s0 (float): Size (pixels) below which a box counts as small.
            Defaults to 32.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        delta_stds (Sequence[float], optional): The ``target_stds`` of the
            head's box coder; when given, the base loss is applied to box
            deltas (see above). Defaults to None (base loss on boxes).
        psi (float, optional): Fixed training status in ``[0, 1]``; if None
            it is read each call (see :mod:`dkd_mm.utils.train_status`).
            Defaults to None.
        normalize (str): ``'call'``: ``omega`` rescaled to a weighted mean
            of 1 in each call; ``'none'``: as it is. Defaults to 'call'.
    """

    def __init__(self,
                 base_loss: Union[ConfigDict, dict],
                 lambda_ar: float = 0.5,
                 lambda_s: float = 0.5,
                 s0: float = 32.0,
                 loss_weight: float = 1.0,
                 delta_stds: Optional[Sequence[float]] = None,
                 psi: Optional[float] = None,
                 normalize: str = 'call') -> None:
        super().__init__()
        if normalize not in ('call', 'none'):
            raise ValueError("normalize must be 'call' or 'none', got "
                             f'{normalize!r}')
        self.normalize = normalize
        self.base_loss = MODELS.build(base_loss)
        self.lambda_ar = lambda_ar
        self.lambda_s = lambda_s
        self.s0 = s0
        self.loss_weight = loss_weight
        self.delta_stds = None if delta_stds is None else tuple(
            float(s) for s in delta_stds)
        self.psi = psi

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Compute the TSA-weighted loss.

        Args:
            pred (Tensor): ``(n, 4)`` or ``(n, 5)`` decoded predicted boxes.
            target (Tensor): ``(n, 4)`` or ``(n, 5)`` target boxes.
            weight (Tensor, optional): ``(n,)`` or ``(n, k)`` weights.
                Defaults to None.
            avg_factor (float, optional): Normaliser of the mean.
                Defaults to None.
            reduction_override (str, optional): 'none', 'mean' or 'sum'.
                Defaults to None ('mean').
            **kwargs: Passed on to the base loss.

        Returns:
            Tensor: the loss, scalar unless the reduction is 'none'.
        """
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or 'mean'
        num_boxes = pred.size(0)
        if num_boxes == 0:
            return 0 * pred.sum()
        if weight is not None and not torch.any(weight > 0):
            return 0 * pred.sum()  # as mmdet's losses: nothing to regress
        if self.delta_stds is not None and len(
                self.delta_stds) != pred.size(-1):
            raise ValueError(f'delta_stds has {len(self.delta_stds)} values '
                             f'for boxes of {pred.size(-1)}')
        # Only the boxes of non-zero weight (a dense head's positives among
        # all its priors): the others add zero to every reduction, and the
        # negatives' targets may be degenerate (zero size).
        box_weight = pred.new_ones(pred.size(0)) if weight is None else (
            weight.mean(dim=-1) if weight.dim() > 1 else weight)
        keep = None
        if weight is not None:
            nonzero = weight != 0
            keep = (nonzero.any(dim=-1)
                    if weight.dim() > 1 else nonzero).nonzero(as_tuple=True)[0]
            pred, target = pred[keep], target[keep]
            weight, box_weight = weight[keep], box_weight[keep]
        elements = self._base_elements(pred, target, weight, **kwargs)
        omega = status_weights(
            box_hardness(target, self.lambda_ar, self.lambda_s, self.s0),
            self.psi if self.psi is not None else current_train_status())
        if self.normalize == 'call':
            omega = omega * (box_weight.sum() / (omega * box_weight).sum())
        omega = omega.to(elements.dtype).detach()
        if reduction == 'none':
            shape = (-1, ) + (1, ) * (elements.dim() - 1)
            elements = self.loss_weight * omega.reshape(shape) * elements
            if keep is None:
                return elements
            full = elements.new_zeros((num_boxes, ) + elements.shape[1:])
            return full.index_copy(0, keep, elements)
        per_box = elements.reshape(elements.size(0), -1).sum(dim=1)
        loss = (omega * per_box).sum()
        if reduction == 'mean':
            if avg_factor is None:
                # The base's mean counts every element, zero weights too.
                loss = loss / (num_boxes * elements[0].numel())
            else:
                loss = loss / (avg_factor + torch.finfo(torch.float32).eps)
        return self.loss_weight * loss

    def _base_elements(self, pred: Tensor, target: Tensor,
                       weight: Optional[Tensor], **kwargs) -> Tensor:
        """The base loss per element (``reduction_override='none'``): on
        the boxes, or on their deltas compared with zero."""
        if self.delta_stds is None:
            return self.base_loss(
                pred, target, weight, reduction_override='none', **kwargs)
        deltas = box_deltas(pred, target, self.delta_stds)
        return self.base_loss(
            deltas,
            torch.zeros_like(deltas),
            weight,
            reduction_override='none',
            **kwargs)
