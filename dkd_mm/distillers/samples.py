"""ISD's instances from the student's own loss pass: no second detector pass.

ISD judges the teacher's instances by their detection loss against the
student's.  Asking both detectors for post-NMS predictions every step costs a
predict pass of each (for a two-stage pair: both RPNs with their NMS, then
both RoI heads on 1000 proposals).  Where the student's head is one of the
kinds below, the instances come from what its loss pass already did:

* **anchor heads** (mmdet's ``AnchorHead._get_targets_single``: RetinaNet,
  rotated RetinaNet, ...): the anchors its assigner made positive, each
  with its ground-truth box; the student's scores and deltas at them are
  its recorded head outputs; the teacher's head runs once on its own
  features (no decoding of other priors, no NMS);
* **RoI heads** (mmdet's ``StandardRoIHead.bbox_loss``: Faster R-CNN,
  Oriented R-CNN, ...): the positive RoIs its sampler drew; the student's
  scores and deltas at them come from its bbox head's loss pass, the
  teacher's RoI head runs on those RoIs only.

At each positive prior ``j`` of ground-truth box ``g`` (label ``c``) a
detector's instance is its box decoded at ``j`` with its probability of
``c``; of each ``g``'s priors the one of least loss
``-log p + (1 - IoU(box, g))`` stands for the detector, so each detector
offers at most one instance per ground-truth box, labelled ``c``: the
``teacher_preds`` and ``student_preds`` that ISD matches to the ground truth
as it matches post-NMS predictions.  Other heads (cascades, anchor-free
point heads, ...) keep the predictions of
:func:`~dkd_mm.distillers.context.predict_from_feats`.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor, nn

from dkd_mm.functional import box_tensor

ANCHOR, ROI = 'anchor', 'roi'


def sample_kind(detector: nn.Module) -> Optional[str]:
    """Which of the loss-pass sources serves ``detector``, or None.

    Args:
        detector (nn.Module): A built mmdet/mmrotate detector.

    Returns:
        str | None: :data:`ANCHOR`, :data:`ROI` or None (predictions).
    """
    from mmdet.models.dense_heads import AnchorHead
    from mmdet.models.roi_heads import CascadeRoIHead, StandardRoIHead
    roi_head = getattr(detector, 'roi_head', None)
    if getattr(detector, 'with_roi_head', False):
        if isinstance(roi_head, StandardRoIHead) and not isinstance(
                roi_head, CascadeRoIHead) and type(
                    roi_head).bbox_loss is StandardRoIHead.bbox_loss:
            return ROI
        return None
    head = getattr(detector, 'bbox_head', None)
    if isinstance(head, AnchorHead) and type(
            head)._get_targets_single is AnchorHead._get_targets_single:
        return ANCHOR
    return None


class SampleRecorder:
    """Record the student's positive samples while its loss runs.

    Inside ``with recorder:`` the student's target method (the anchor
    head's ``_get_targets_single`` or the RoI head's ``bbox_loss``) is
    wrapped on the instance; :attr:`records` then holds, per call, what ISD
    needs.  The wrapper is removed on exit.

    Args:
        detector (nn.Module): The student.
        kind (str): :func:`sample_kind` of it.
    """

    def __init__(self, detector: nn.Module, kind: str) -> None:
        self.kind = kind
        self._owner = detector.bbox_head if kind == ANCHOR else \
            detector.roi_head
        self._name = '_get_targets_single' if kind == ANCHOR else 'bbox_loss'
        self.records: List[dict] = []

    def __enter__(self) -> 'SampleRecorder':
        self.records = []
        method = getattr(self._owner, self._name)
        record = self._anchor_record if self.kind == ANCHOR else \
            self._roi_record

        def wrapped(*args, **kwargs):
            output = method(*args, **kwargs)
            self.records.append(record(args, kwargs, output))
            return output

        setattr(self._owner, self._name, wrapped)
        return self

    def __exit__(self, *exc_info) -> None:
        # The instance attribute shadowed the class's method.
        self._owner.__dict__.pop(self._name, None)

    def _anchor_record(self, args: tuple, kwargs: dict, output: tuple):
        from mmdet.models.task_modules.prior_generators import \
            anchor_inside_flags
        names = ('flat_anchors', 'valid_flags', 'gt_instances', 'img_meta')
        given = dict(zip(names, args), **kwargs)
        inside = anchor_inside_flags(given['flat_anchors'],
                                     given['valid_flags'],
                                     given['img_meta']['img_shape'][:2],
                                     self._owner.train_cfg['allowed_border'])
        sampling = output[-1]
        # pos_inds index the anchors inside the image: back to all anchors.
        index = inside.nonzero(as_tuple=True)[0][sampling.pos_inds]
        return dict(
            priors=given['flat_anchors'],
            index=index,
            gt=sampling.pos_assigned_gt_inds.long())

    def _roi_record(self, args: tuple, kwargs: dict, output: dict):
        sampling_results = kwargs.get('sampling_results',
                                      args[1] if len(args) > 1 else None)
        return dict(
            sampling_results=sampling_results,
            cls_score=output['cls_score'].detach(),
            bbox_pred=output['bbox_pred'].detach())


def aligned_iou(boxes: Tensor, gt_boxes: Tensor) -> Tensor:
    """IoU of each box with the ground-truth box of its row.

    Args:
        boxes (Tensor): (P, 4) x1y1x2y2 or (P, 5) cx,cy,w,h,angle boxes.
        gt_boxes (Tensor): Same shape.

    Returns:
        Tensor: (P,) IoUs.
    """
    if len(boxes) == 0:
        return boxes.new_zeros(0)
    if boxes.size(-1) == 5:
        from mmcv.ops import box_iou_rotated
        return box_iou_rotated(boxes.float(), gt_boxes.float(), aligned=True)
    from mmdet.structures.bbox import bbox_overlaps
    return bbox_overlaps(boxes.float(), gt_boxes.float(), is_aligned=True)


def best_per_gt(losses: Tensor, gt: Tensor) -> Tensor:
    """Of each ground-truth box's samples, the index of the least loss.

    Args:
        losses (Tensor): (P,) losses.
        gt (Tensor): (P,) long ground-truth index of each sample.

    Returns:
        Tensor: (U,) long indices into the P samples, one per ground-truth
        box that has samples, in increasing ``gt``.
    """
    if len(losses) == 0:
        return gt.new_zeros(0)
    by_loss = losses.argsort(stable=True)
    order = by_loss[gt[by_loss].argsort(stable=True)]
    sorted_gt = gt[order]
    first = torch.ones_like(sorted_gt, dtype=torch.bool)
    first[1:] = sorted_gt[1:] != sorted_gt[:-1]
    return order[first]


def representatives(scores: Tensor,
                    boxes: Tensor,
                    gt: Tensor,
                    gt_instances: InstanceData,
                    eps: float = 1e-6) -> InstanceData:
    """One detector's instances of an image: per ground-truth box, its
    sample of least ``-log p + (1 - IoU)``.

    Args:
        scores (Tensor): (P,) probabilities of the GT box's class.
        boxes (Tensor): (P, 4|5) decoded boxes.
        gt (Tensor): (P,) GT index of each sample.
        gt_instances (InstanceData): The image's ``bboxes`` and ``labels``.
        eps (float): Floor of ``p`` in the log. Defaults to 1e-6.

    Returns:
        InstanceData: ``bboxes`` (U, 4|5), ``scores`` (U,), ``labels`` (U,).
    """
    gt_boxes = box_tensor(gt_instances.bboxes)
    losses = -scores.clamp(min=eps).log() + 1 - aligned_iou(
        boxes, gt_boxes[gt])
    keep = best_per_gt(losses, gt)
    return InstanceData(
        bboxes=boxes[keep].detach(),
        scores=scores[keep].detach(),
        labels=gt_instances.labels[gt[keep]])


def class_probs(logits: Tensor, labels: Tensor, sigmoid: bool) -> Tensor:
    """(P, C[+1]) logits -> (P,) probability of each row's label."""
    probs = logits.sigmoid() if sigmoid else F.softmax(logits, dim=-1)
    return probs.gather(1, labels[:, None]).squeeze(1)


def _flat(outputs: Sequence[Tensor], image: int, width: int) -> Tensor:
    """An image's (A, width) rows of a dense head's per-level outputs
    (N, K * width, H, W), in the anchors' order (level, y, x, anchor)."""
    return torch.cat(
        [out[image].permute(1, 2, 0).reshape(-1, width) for out in outputs])


@torch.no_grad()
def anchor_instances(
    student: nn.Module, teacher: nn.Module, teacher_feats: Tuple[Tensor, ...],
    student_outs: tuple, records: List[dict], gt_instances: List[InstanceData]
) -> Tuple[List[InstanceData], List[InstanceData]]:
    """Teacher and student instances at the student's positive anchors.

    Args:
        student, teacher (nn.Module): Dense anchor-head detectors.
        teacher_feats (tuple[Tensor]): The teacher's neck levels.
        student_outs (tuple): The student head's recorded outputs
            ``(cls_scores, bbox_preds)``, per level ``(N, K * C, H, W)``.
        records (list[dict]): :class:`SampleRecorder`'s, one per image.
        gt_instances (list[InstanceData]): Per image ground truth.

    Returns:
        tuple[list[InstanceData], list[InstanceData]]: Teacher's and
        student's instances per image (see the module docstring).
    """
    s_head, t_head = student.bbox_head, teacher.bbox_head
    t_scores, t_deltas = t_head(teacher_feats)[:2]
    t_priors = t_head.prior_generator.grid_priors(
        [s.shape[-2:] for s in t_scores], device=t_scores[0].device)
    t_priors = _cat_priors(t_priors)
    s_scores, s_deltas = student_outs[:2]
    teachers, students = [], []
    for i, (record, gt_inst) in enumerate(zip(records, gt_instances)):
        index, gt = record['index'], record['gt']
        labels = gt_inst.labels[gt]
        if len(t_priors) != len(record['priors']):
            raise ValueError(
                f'the teacher\'s head has {len(t_priors)} priors, the '
                f'student\'s {len(record["priors"])}: ISD takes both at the '
                'student\'s positive anchors, so give both heads the same '
                'anchor generator')
        found = []
        for head, scores, deltas, priors in ((t_head, t_scores, t_deltas,
                                              t_priors),
                                             (s_head, s_scores, s_deltas,
                                              record['priors'])):
            logits = _flat(scores, i, head.cls_out_channels)[index]
            probs = class_probs(logits.detach(), labels, head.use_sigmoid_cls)
            boxes = box_tensor(
                head.bbox_coder.decode(
                    priors[index],
                    _flat(deltas, i, head.bbox_coder.encode_size)[index]))
            found.append(representatives(probs, boxes, gt, gt_inst))
        teachers.append(found[0])
        students.append(found[1])
    return teachers, students


def _cat_priors(priors: list):
    from mmdet.structures.bbox import cat_boxes
    return cat_boxes(priors) if not isinstance(priors[0], Tensor) else \
        torch.cat(priors)


@torch.no_grad()
def roi_instances(
    student: nn.Module, teacher: nn.Module, teacher_feats: Tuple[Tensor, ...],
    records: List[dict], gt_instances: List[InstanceData]
) -> Tuple[List[InstanceData], List[InstanceData]]:
    """Teacher and student instances at the student's positive RoIs.

    Args:
        student, teacher (nn.Module): Two-stage detectors with
            ``StandardRoIHead``-like RoI heads.
        teacher_feats (tuple[Tensor]): The teacher's neck levels.
        records (list[dict]): :class:`SampleRecorder`'s: one call of the
            student's ``bbox_loss``.
        gt_instances (list[InstanceData]): Per image ground truth.

    Returns:
        tuple[list[InstanceData], list[InstanceData]]: Teacher's and
        student's instances per image.
    """
    from mmdet.structures.bbox import bbox2roi
    [record] = records
    results = record['sampling_results']
    counts = [len(res.priors) for res in results]
    starts = torch.tensor([0] + counts[:-1]).cumsum(0).tolist()
    rows = torch.cat([
        torch.arange(len(res.pos_inds)) + start
        for res, start in zip(results, starts)
    ]).to(record['cls_score'].device)
    rois = bbox2roi([res.pos_priors for res in results])
    t_out = teacher.roi_head._bbox_forward(teacher_feats, rois)
    teachers, students = [], []
    offset = 0
    for res, gt_inst in zip(results, gt_instances):
        num = len(res.pos_inds)
        part = slice(offset, offset + num)
        gt = res.pos_assigned_gt_inds.long()
        labels = gt_inst.labels[gt]
        found = []
        for head, cls_score, bbox_pred in ((teacher.roi_head.bbox_head,
                                            t_out['cls_score'][part],
                                            t_out['bbox_pred'][part]),
                                           (student.roi_head.bbox_head,
                                            record['cls_score'][rows][part],
                                            record['bbox_pred'][rows][part])):
            found.append(
                representatives(
                    _roi_probs(head, cls_score, labels),
                    _roi_boxes(head, rois[part, 1:], bbox_pred, labels), gt,
                    gt_inst))
        teachers.append(found[0])
        students.append(found[1])
        offset += num
    return teachers, students


def _roi_probs(head: nn.Module, cls_score: Tensor, labels: Tensor) -> Tensor:
    if getattr(head, 'custom_cls_channels', False):
        probs = head.loss_cls.get_activation(cls_score)
        return probs.gather(1, labels[:, None]).squeeze(1)
    return class_probs(cls_score, labels, sigmoid=False)


def _roi_boxes(head: nn.Module, rois: Tensor, bbox_pred: Tensor,
               labels: Tensor) -> Tensor:
    dim = head.bbox_coder.encode_size
    if not head.reg_class_agnostic:
        bbox_pred = bbox_pred.view(len(bbox_pred), -1,
                                   dim)[torch.arange(len(labels)), labels]
    return box_tensor(head.bbox_coder.decode(rois, bbox_pred))


def loss_pass_instances(kind: str, student: nn.Module, teacher: nn.Module,
                        teacher_feats: tuple, head_outs: Optional[tuple],
                        records: List[dict],
                        gt_instances: List[InstanceData]) -> Dict[str, list]:
    """``teacher_preds`` and ``student_preds`` from the loss pass."""
    if kind == ANCHOR:
        teachers, students = anchor_instances(student, teacher, teacher_feats,
                                              head_outs, records, gt_instances)
    else:
        teachers, students = roi_instances(student, teacher, teacher_feats,
                                           records, gt_instances)
    return dict(teacher_preds=teachers, student_preds=students)
