"""What one training step offers to the distillation losses: the contract.

Inputs: a loss names what it needs by the argument names of its
``forward``; each must be a field of :class:`DistillContext` (checked when
the distiller is built, :func:`~dkd_mm.distillers.checks.loss_arguments`),
and the distiller passes those fields by name.  The field list is derived
from the class (:meth:`DistillContext.field_names`), never kept by hand.
Costly fields (both detectors' predictions, the training status) are
computed only when a loss asks for them, at most once a step.

Outputs: ``forward`` returns a Tensor or a dict of name -> Tensor.  Under
the loss's config name (``name``, which contains ``'loss'``):

* a Tensor becomes ``name``, and a dict entry ``key`` becomes
  ``name_key``: terms that mmengine sums into the loss, times the
  distiller's ``distill_scale``;
* a dict entry ``log_<stat>`` (a Tensor or a number) is a statistic: it
  becomes ``<prefix>_<stat>``, ``prefix`` being ``name`` without
  ``'loss'`` (``loss_isd`` + ``log_selected`` -> ``isd_selected``), a
  detached float tensor, unscaled.  Its key holds no ``'loss'``, so
  mmengine's ``BaseModel.parse_losses`` logs its mean and adds nothing to
  the loss; it reaches the logs as ``train/<prefix>_<stat>``.
"""
import copy
import re
from contextlib import contextmanager
from dataclasses import InitVar, dataclass, fields
from functools import cached_property
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

from dkd_mm.functional import box_tensor

STAT_PREFIX = 'log_'

# What the step's own predictions of both detectors need, and no more: the
# top ``nms_pre`` priors of each level above ``score_thr`` go into NMS.  A
# detector's test-time settings (e.g. 1000-2000 priors per level) would send
# thousands of an untrained student's boxes into rotated NMS on every step.
DISTILL_PRED_CFG = dict(nms_pre=100, score_thr=0.05, max_per_img=100)


@dataclass(eq=False)
class DistillContext:
    """Named values of one step; the lazy ones computed on first access.

    Attributes:
        student_feats (tuple[Tensor]): The student's neck levels mapped to
            the teacher's channels by the adapters, each
            ``(N, C_t, H_l, W_l)``.
        teacher_feats (tuple[Tensor]): The teacher's neck levels, each
            ``(N, C_t, H_l, W_l)``, computed under ``no_grad``.
        gt_bboxes (list[Tensor]): Per image ``(K_i, 4)`` or ``(K_i, 5)``
            ground-truth boxes in padded-input pixels.
        gt_labels (list[Tensor]): Per image ``(K_i,)`` labels.
        batch_input_shape (tuple[int, int]): ``(H, W)`` of the padded
            batch.
        teacher_preds (list[InstanceData]): Lazy: the teacher's instances,
            ``bboxes`` ``(K, 4|5)``, ``scores``, ``labels`` per image: at
            the student's positive samples of its loss pass, one per GT box
            (:mod:`dkd_mm.distillers.samples`, the distiller's
            ``isd_instances='loss_pass'`` where the heads allow it), else
            its post-NMS predictions.
        student_preds (list[InstanceData]): Lazy: the student's, likewise.
        train_status (float): Lazy: psi in ``[0, 1]``, see
            :mod:`dkd_mm.utils.train_status`.

    Args:
        predict_teacher, predict_student (Callable[[], list]): Compute
            ``teacher_preds`` and ``student_preds``.
        read_train_status (Callable[[], float]): Computes ``train_status``.
    """
    student_feats: Tuple[Tensor, ...]
    teacher_feats: Tuple[Tensor, ...]
    gt_bboxes: List[Tensor]
    gt_labels: List[Tensor]
    batch_input_shape: Tuple[int, int]
    predict_teacher: InitVar[Callable[[], List[InstanceData]]]
    predict_student: InitVar[Callable[[], List[InstanceData]]]
    read_train_status: InitVar[Callable[[], float]]

    def __post_init__(self, predict_teacher: Callable[[], list],
                      predict_student: Callable[[], list],
                      read_train_status: Callable[[], float]) -> None:
        self._predict_teacher = predict_teacher
        self._predict_student = predict_student
        self._read_train_status = read_train_status

    @cached_property
    def teacher_preds(self) -> List[InstanceData]:
        return self._predict_teacher()

    @cached_property
    def student_preds(self) -> List[InstanceData]:
        return self._predict_student()

    @cached_property
    def train_status(self) -> float:
        return self._read_train_status()

    @classmethod
    def field_names(cls) -> Tuple[str, ...]:
        """Every name a loss may ask for: the fields, then the lazy ones."""
        lazy = tuple(name for name, attr in vars(cls).items()
                     if isinstance(attr, cached_property))
        return tuple(f.name for f in fields(cls)) + lazy


LossOutput = Union[Tensor, Dict[str, Union[Tensor, float]]]


def split_loss_output(name: str,
                      output: LossOutput) -> Tuple[dict, Dict[str, Tensor]]:
    """A loss's return value as loss terms and logged statistics.

    Args:
        name (str): The loss's config name; contains ``'loss'``.
        output (Tensor | dict): What its ``forward`` returned.

    Returns:
        tuple[dict, dict]: Loss terms ``name[_key]`` -> Tensor, and
        statistics ``<prefix>_<stat>`` -> detached float Tensor (see the
        module docstring).

    Raises:
        ValueError: If a statistic's key would contain ``'loss'``.
    """
    if isinstance(output, Tensor):
        return {name: output}, {}
    prefix = re.sub('_+', '_', name.replace('loss', '')).strip('_')
    terms, stats = {}, {}
    for key, value in output.items():
        if not key.startswith(STAT_PREFIX):
            terms[f'{name}_{key}' if key else name] = value
            continue
        stat = key[len(STAT_PREFIX):]
        full_name = f'{prefix}_{stat}' if prefix else stat
        if 'loss' in full_name:
            raise ValueError(f'{name}: statistic {key!r} would be logged as '
                             f'{full_name!r}, which mmengine would add to '
                             'the loss; name it without "loss"')
        stats[full_name] = torch.as_tensor(value).detach().float()
    return terms, stats


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
        head_outs (tuple, optional): The first head's forward outputs on
            ``feats`` (a dense head's, e.g. ``(cls_scores, bbox_preds)``,
            or a two-stage detector's RPN head's), when the caller has them
            already: they are decoded instead of running that head again.
            Ignored for refine-stage detectors. Defaults to None.

    Returns:
        list[InstanceData]: Per image ``bboxes`` (K, 4|5) tensor, ``scores``
        (K,) and ``labels`` (K,).
    """
    feats = tuple(f.detach() for f in feats)
    metas = [s.metainfo for s in data_samples]
    if head_outs is not None:
        head_outs = [[o.detach() for o in out] for out in head_outs]
    if getattr(detector, 'with_roi_head', False):
        if head_outs is None:
            proposals = detector.rpn_head.predict(
                feats, data_samples, rescale=False)
        else:
            proposals = detector.rpn_head.predict_by_feat(
                *head_outs, batch_img_metas=metas, rescale=False)
        with overridden_test_cfg(detector.roi_head, pred_cfg):
            results = detector.roi_head.predict(
                feats, proposals, data_samples, rescale=False)
    elif hasattr(detector, 'bbox_head_refine'):
        # mmrotate's RefineSingleStageDetector (R3Det, S2ANet): an initial
        # head, then refine stages on the boxes of the one before, as its
        # own predict.
        results = _refine_predict(detector, feats, data_samples, pred_cfg)
    elif hasattr(detector, 'bbox_head'):
        head = detector.bbox_head
        with overridden_test_cfg(head, pred_cfg):
            if head_outs is None:
                results = head.predict(feats, data_samples, rescale=False)
            else:
                results = head.predict_by_feat(
                    *head_outs, batch_img_metas=metas, rescale=False)
    else:
        raise TypeError(f'{type(detector).__name__} has neither a bbox_head '
                        'nor an RPN + RoI head to predict instances with')
    for result in results:
        result.bboxes = box_tensor(result.bboxes)
    return results


def _refine_predict(detector: nn.Module, feats: tuple, data_samples: list,
                    pred_cfg: Optional[dict]) -> List[InstanceData]:
    """A refine-stage detector's predictions from its neck features."""
    outs = detector.bbox_head_init(feats)
    rois = detector.bbox_head_init.filter_bboxes(*outs)
    for i in range(detector.num_refine_stages):
        head = detector.bbox_head_refine[i]
        outs = head(head.feature_refine(feats, rois))
        if i + 1 < detector.num_refine_stages:
            rois = head.refine_bboxes(*outs, rois)
    last = detector.bbox_head_refine[-1]
    with overridden_test_cfg(last, pred_cfg):
        return last.predict_by_feat(
            *outs,
            rois=rois,
            batch_img_metas=[s.metainfo for s in data_samples],
            rescale=False)
