"""What one training step offers to the distillation losses.

A loss names what it needs by the argument names of its ``forward``; the
distiller passes those fields by name.  Costly fields (the predictions of
both detectors) are computed only when a loss asks for them, once a step.
"""
import copy
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from dkd_mm.utils.train_status import current_train_status  # noqa: F401


def box_tensor(boxes: Any) -> Tensor:
    """A plain (K, 4) or (K, 5) tensor from a tensor or mmdet BaseBoxes."""
    return boxes.tensor if hasattr(boxes, 'tensor') else boxes


# What the step's own predictions of both detectors need, and no more: the
# top ``nms_pre`` priors of each level above ``score_thr`` go into NMS.  A
# detector's test-time settings (e.g. 1000-2000 priors per level) would send
# thousands of an untrained student's boxes into rotated NMS on every step.
DISTILL_PRED_CFG = dict(nms_pre=100, score_thr=0.05, max_per_img=100)


@contextmanager
def overridden_test_cfg(head: nn.Module, overrides: Optional[dict]):
    """Temporarily replace the keys of ``head.test_cfg`` that it has.

    Args:
        head (nn.Module): A dense head or an RoI head with ``test_cfg``.
        overrides (dict, optional): Key -> value; keys the head's test_cfg
            lacks are ignored (e.g. ``nms_pre`` of an RoI head).
    """
    cfg = getattr(head, 'test_cfg', None)
    if not overrides or cfg is None:
        yield
        return
    saved = copy.deepcopy(cfg)
    for key, value in overrides.items():
        if key in cfg:
            cfg[key] = value
    try:
        yield
    finally:
        head.test_cfg = saved


def is_dense(detector: nn.Module) -> bool:
    """Whether the detector's instances come from one dense ``bbox_head``
    (single-stage and anchor-free detectors), not RPN + RoI head."""
    return (not getattr(detector, 'with_roi_head', False)
            and hasattr(detector, 'bbox_head'))


@torch.no_grad()
def predict_from_feats(
        detector: nn.Module,
        feats: tuple,
        data_samples: list,
        pred_cfg: Optional[dict] = None,
        head_outs: Optional[tuple] = None) -> List[InstanceData]:
    """Post-NMS predictions of a detector from neck features it already has.

    Uses the family's own predict path: a dense head's ``predict`` for single
    stage and anchor-free detectors; RPN proposals then the RoI head for two
    stage ones.  Boxes are in the (padded) input frame, ``rescale=False``.

    Args:
        detector (nn.Module): An mmdet/mmrotate detector.
        feats (tuple[Tensor]): Its neck outputs, each (N, C, H_l, W_l).
        data_samples (list[DetDataSample]): The batch's samples.
        pred_cfg (dict, optional): Overrides of the final head's
            ``test_cfg`` (``nms_pre``, ``score_thr``, ``max_per_img``, where
            it has them; the RPN keeps its own). Defaults to None (the
            detector's test-time settings).
        head_outs (tuple, optional): The dense head's forward outputs on
            ``feats`` (e.g. ``(cls_scores, bbox_preds)``), when the step has
            them already: they are decoded instead of running the head
            again. Ignored for two-stage detectors. Defaults to None.

    Returns:
        list[InstanceData]: Per image ``bboxes`` (K, 4|5) tensor, ``scores``
        (K,) and ``labels`` (K,).
    """
    feats = tuple(f.detach() for f in feats)
    if getattr(detector, 'with_roi_head', False):
        proposals = detector.rpn_head.predict(
            feats, data_samples, rescale=False)
        with overridden_test_cfg(detector.roi_head, pred_cfg):
            results = detector.roi_head.predict(
                feats, proposals, data_samples, rescale=False)
    elif hasattr(detector, 'bbox_head'):
        head = detector.bbox_head
        with overridden_test_cfg(head, pred_cfg):
            if head_outs is None:
                results = head.predict(feats, data_samples, rescale=False)
            else:
                outs = [[o.detach() for o in out] for out in head_outs]
                results = head.predict_by_feat(
                    *outs,
                    batch_img_metas=[s.metainfo for s in data_samples],
                    rescale=False)
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
