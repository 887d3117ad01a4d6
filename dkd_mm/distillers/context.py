"""What one training step offers to the distillation losses.

A loss names what it needs by the argument names of its ``forward``; the
distiller passes those fields by name.  Costly fields (the predictions of
both detectors) are computed only when a loss asks for them, once a step.
"""
from typing import Any, Callable, Dict, List

import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from dkd_mm.utils.train_status import current_train_status  # noqa: F401


def box_tensor(boxes: Any) -> Tensor:
    """A plain (K, 4) or (K, 5) tensor from a tensor or mmdet BaseBoxes."""
    return boxes.tensor if hasattr(boxes, 'tensor') else boxes


@torch.no_grad()
def predict_from_feats(detector: nn.Module, feats: tuple,
                       data_samples: list) -> List[InstanceData]:
    """Post-NMS predictions of a detector from neck features it already has.

    Uses the family's own predict path: a dense head's ``predict`` for single
    stage and anchor-free detectors; RPN proposals then the RoI head for two
    stage ones.  Boxes are in the (padded) input frame, ``rescale=False``.

    Args:
        detector (nn.Module): An mmdet/mmrotate detector.
        feats (tuple[Tensor]): Its neck outputs, each (N, C, H_l, W_l).
        data_samples (list[DetDataSample]): The batch's samples.

    Returns:
        list[InstanceData]: Per image ``bboxes`` (K, 4|5) tensor, ``scores``
        (K,) and ``labels`` (K,).
    """
    feats = tuple(f.detach() for f in feats)
    if getattr(detector, 'with_roi_head', False):
        proposals = detector.rpn_head.predict(
            feats, data_samples, rescale=False)
        results = detector.roi_head.predict(
            feats, proposals, data_samples, rescale=False)
    elif hasattr(detector, 'bbox_head'):
        results = detector.bbox_head.predict(
            feats, data_samples, rescale=False)
    else:
        raise TypeError(f'{type(detector).__name__} has neither a bbox_head '
                        'nor an RPN + RoI head to predict instances with')
    for result in results:
        result.bboxes = box_tensor(result.bboxes)
    return results


class DistillContext:
    """Named values of one step, some computed lazily on first access.

    Args:
        values (dict): Values known up front.
        lazy (dict): Name -> zero-argument function, called at most once.
    """

    def __init__(self, values: Dict[str, Any],
                 lazy: Dict[str, Callable[[], Any]]) -> None:
        self._values = dict(values)
        self._lazy = dict(lazy)

    @property
    def names(self) -> List[str]:
        return sorted(set(self._values) | set(self._lazy))

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            self._values[name] = self._lazy.pop(name)()
        return self._values[name]


CONTEXT_FIELDS = (
    'student_feats',  # adapted to teacher channels, tuple of (N, C_t, H, W)
    'student_raw_feats',  # the student's own neck outputs
    'teacher_feats',  # tuple of (N, C_t, H, W), no grad
    'gt_bboxes',  # list of (K, 4) or (K, 5) tensors
    'gt_labels',  # list of (K,) tensors
    'batch_data_samples',
    'batch_img_metas',
    'batch_input_shape',  # (H, W) of the padded batch
    'teacher_preds',  # lazy: list of InstanceData
    'student_preds',  # lazy: list of InstanceData
    'train_status',  # psi in [0, 1]
    'teacher',  # the teacher detector, for RoI extraction helpers
    'student',
)
