"""The cases of bench/gpu_check.py's parity checks: every loss of
dkd_mm.losses and every function of dkd_mm.functional they use, on small
seeded inputs (bench/gpu_parity_inputs.py; harness and tolerances:
bench/gpu_parity.py).
"""
from functools import partial
from typing import Any, Dict, List

import torch
from mmengine.structures import InstanceData
from torch import Tensor, nn

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from bench.gpu_parity import RELAXED, Case
from bench.gpu_parity_inputs import (CHANNELS, INPUT, STRIDES, feature_pair,
                                     features, horizontal_boxes, jittered,
                                     level_sizes, predictions, rotated_boxes)
from dkd_mm import functional as fn
from dkd_mm.distillers import samples
from dkd_mm.losses import (CWDLoss, DynamicGlobalDistillLoss, FGDLoss,
                           FitNetLoss, InstanceSelectionDistillLoss, PKDLoss,
                           TSALoss)


def isd_inputs(gen: torch.Generator, rotated: bool) -> Dict[str, Any]:
    boxes = rotated_boxes if rotated else horizontal_boxes
    gts = [
        torch.cat([boxes(gen, 3), boxes(gen, 1, large=True)]) for _ in range(2)
    ]
    labels = [torch.randint(0, 5, (4, ), generator=gen) for _ in gts]
    return dict(
        loss=InstanceSelectionDistillLoss(),
        student_feats=features(gen, True),
        teacher_feats=features(gen, False),
        teacher_preds=[
            predictions(gen, g, lab, (0.5, 0.99), 2, 4)
            for g, lab in zip(gts, labels)
        ],
        student_preds=[
            predictions(gen, g, lab, (0.05, 0.9), 4, 3)
            for g, lab in zip(gts, labels)
        ],
        gt_bboxes=gts,
        gt_labels=labels,
        batch_input_shape=INPUT,
        train_status=0.6)


def _call(loss: nn.Module, **kwargs) -> Any:
    return loss(**kwargs)


def _box_masks(rboxes: Tensor, hboxes: Tensor, discrepancy: Tensor) -> dict:
    out = {}
    for kind, boxes in (('rotated', rboxes), ('horizontal', hboxes)):
        out[f'points_in_boxes_{kind}'] = fn.points_in_boxes(
            fn.cell_centers((32, 32), (8, 8), boxes.device), boxes)
        for size, stride in zip(level_sizes(), STRIDES):
            strides = fn.feature_strides(size, INPUT)
            out[f'foreground_mask_{kind}_s{stride}'] = fn.foreground_mask(
                boxes, size, strides)
    fg = torch.stack([
        out['foreground_mask_rotated_s8'],
        torch.ones(32, 32, device=rboxes.device)
    ])  # no bg
    for topk in (1.0, 0.3):
        for normalize in (True, False):
            out[f'background_weights_{topk}_{normalize}'] = \
                fn.background_weights(discrepancy, fg == 0, 0.5, topk,
                                      normalize)
    return out


def _boxes(rboxes: Tensor, hboxes: Tensor) -> dict:
    return {
        f'{name}_{kind}': f(boxes)
        for kind, boxes in (('rotated', rboxes), ('horizontal', hboxes))
        for name, f in (('areas', fn.box_areas), ('centers', fn.box_centers),
                        ('sides', fn.box_sides))
    }


def _hardness(rboxes: Tensor, hboxes: Tensor) -> dict:
    hard = fn.box_hardness(rboxes)
    return dict(
        rotated=hard,
        horizontal=fn.box_hardness(hboxes, 0.3, 0.7, 24.0),
        status_float=fn.status_weights(hard, 0.4),
        status_tensor=fn.status_weights(hard, hard.new_tensor(1.5)))


def _relation(student: Tensor, teacher: Tensor) -> dict:
    vectors = student.flatten(2).transpose(1, 2)[:, :40] * torch.cat(
        [student.new_zeros(1, 1, 1),
         student.new_ones(1, 39, 1)], dim=1)  # a zero vector first
    return dict(
        cosine=fn.cosine_matrix(vectors),
        matrix=fn.relation_matrix(student, 8),
        loss=fn.relation_loss(student, teacher, 16),
        loss_unpooled=fn.relation_loss(student[:, :, :8, :8],
                                       teacher[:, :, :8, :8], 16))


def _instance_selection(preds: List[InstanceData], gts: List[Tensor],
                        labels: List[Tensor]) -> dict:
    out, losses, matched, gt_losses = {}, [], [], []
    for i, (pred, gt, lab) in enumerate(zip(preds, gts, labels)):
        out[f'iou_{i}'] = fn.pairwise_iou(pred.bboxes, gt)
        loss, match = fn.instance_det_losses(pred.bboxes, pred.scores,
                                             pred.labels, gt, lab)
        losses.append(loss)
        matched.append(match)
        gt_losses.append(fn.gt_det_losses(loss, match, len(gt)))
    flat = fn.flatten_gt_index(matched, [len(g) for g in gts])
    all_gt = torch.cat(gts)
    sel = fn.select_instances(
        torch.cat(losses), flat,
        torch.cat(gt_losses) + 0.5,
        fn.status_weights(fn.box_hardness(all_gt), 0.5))
    return dict(
        out,
        losses=losses,
        matched=matched,
        gt_losses=gt_losses,
        flat=flat,
        selection=sel)


def _loss_pass_inputs(gen: torch.Generator) -> dict:
    """Eight positive priors of three ground-truth boxes per box kind, their
    decoded boxes near the boxes they were assigned to, and their logits."""
    gt = torch.tensor([0, 2, 1, 0, 2, 2, 1, 0])
    rgt, hgt = rotated_boxes(gen, 3), horizontal_boxes(gen, 3)
    return dict(
        gt=gt,
        labels=torch.tensor([3, 0, 4]),
        rboxes=jittered(gen, rgt[gt], 3),
        rgt=rgt,
        hboxes=jittered(gen, hgt[gt], 3),
        hgt=hgt,
        sigmoid_logits=torch.randn(8, 5, generator=gen),
        softmax_logits=torch.randn(8, 6, generator=gen))


def _loss_pass(gt: Tensor, labels: Tensor, rboxes: Tensor, rgt: Tensor,
               hboxes: Tensor, hgt: Tensor, sigmoid_logits: Tensor,
               softmax_logits: Tensor) -> dict:
    """ISD's instances from the loss pass (dkd_mm.distillers.samples): each
    ground-truth box's sample of least ``-log p + 1 - IoU``."""
    out = {}
    for kind, logits, sigmoid in (('sigmoid', sigmoid_logits, True),
                                  ('softmax', softmax_logits, False)):
        out[f'probs_{kind}'] = samples.class_probs(logits, labels[gt], sigmoid)
    for kind, boxes, gt_boxes in (('rotated', rboxes, rgt), ('horizontal',
                                                             hboxes, hgt)):
        out[f'iou_{kind}'] = samples.aligned_iou(boxes, gt_boxes[gt])
        picked = samples.representatives(
            out['probs_sigmoid'], boxes, gt,
            InstanceData(bboxes=gt_boxes, labels=labels))
        out[f'instances_{kind}'] = dict(picked.items())
    return out


def _roi_features(feats: List[Tensor], rboxes: List[Tensor],
                  hboxes: List[Tensor]) -> dict:
    strides = [fn.feature_strides(f.shape[-2:], INPUT) for f in feats]
    return dict(
        levels=fn.map_roi_levels(torch.cat(rboxes), len(feats)),
        rotated=fn.roi_features(feats, rboxes, strides),
        horizontal=fn.roi_features(feats, hboxes, strides),
        # Unequal strides along h and w: RoIs rescaled before pooling.
        # (mmcv's RoIAlign kernels read their input as contiguous.)
        stretched=fn.roi_features(
            [f[:, :, :, ::2].contiguous() for f in feats[:2]], rboxes,
            [(8, 16), (16, 32)]))


def _roi_inputs(gen: torch.Generator) -> dict:
    return dict(
        feats=features(gen, True),
        rboxes=[rotated_boxes(gen, 5),
                rotated_boxes(gen, 4, True)],
        hboxes=[horizontal_boxes(gen, 5),
                horizontal_boxes(gen, 4, True)])


def _tsa(losses: List[nn.Module], preds: List[Tensor], targets: List[Tensor],
         weights: List[Tensor]) -> dict:
    return {
        f'tsa_{i}': loss(pred, target, weight, avg_factor=7.0)
        for i, (loss, pred, target,
                weight) in enumerate(zip(losses, preds, targets, weights))
    }


def _tsa_inputs(gen: torch.Generator) -> dict:
    rt, ht = rotated_boxes(gen, 12), horizontal_boxes(gen, 12)
    targets = [rt, rt, ht]
    losses = [
        TSALoss(dict(type='mmrotate.GDLoss', loss_type='gwd'), psi=0.7),
        TSALoss(
            dict(type='mmdet.L1Loss'),
            psi=0.7,
            delta_stds=(0.1, 0.1, 0.2, 0.2, 0.1)),
        TSALoss(dict(type='mmdet.GIoULoss'), psi=0.7)
    ]
    # (n, k) weights, some boxes 0, as dense heads pass them.
    weights = [(torch.rand(len(t), 1, generator=gen)
                > 0.2).float().expand(-1, t.size(1)).contiguous()
               for t in targets]
    return dict(
        losses=losses,
        preds=[jittered(gen, t, 3).requires_grad_() for t in targets],
        targets=targets,
        weights=weights)


def _fgd_inputs(gen: torch.Generator) -> dict:
    torch.manual_seed(0)  # the GcBlocks' initial weights
    loss = FGDLoss(in_channels=CHANNELS, num_levels=3, lambda_fgd=1e-2)
    for block in (*loss.gc_student, *loss.gc_teacher):
        # Zero at initialisation, which leaves the rest without gradient.
        nn.init.normal_(block.channel_add[-1].weight, std=0.1)
    return dict(
        loss=loss,
        gt_bboxes=[rotated_boxes(gen, 5),
                   rotated_boxes(gen, 3)],
        batch_input_shape=INPUT,
        **feature_pair(gen, STRIDES[:3]))


def _pkd_inputs(gen: torch.Generator) -> dict:
    # The student's levels at half the teacher's size: resized first.
    return dict(
        loss=PKDLoss(),
        student_feats=features(gen, True, (16, 32)),
        teacher_feats=features(gen, False, (8, 16)))


CASES = [
    Case(
        'functional.box_masks', lambda g: dict(
            rboxes=rotated_boxes(g, 12),
            hboxes=horizontal_boxes(g, 12),
            discrepancy=torch.rand(2, 32, 32, generator=g)), _box_masks),
    Case(
        'functional.boxes', lambda g: dict(
            rboxes=rotated_boxes(g, 8), hboxes=horizontal_boxes(g, 8)),
        _boxes),
    Case(
        'functional.attention', lambda g: dict(feat=features(g, True)[0]),
        lambda feat: dict(
            spatial=fn.spatial_attention(feat, 0.5),
            channel=fn.channel_attention(feat, 0.7))),
    Case('functional.normalize', lambda g: dict(feat=features(g, True)[1]),
         lambda feat: fn.pearson_normalize(feat)),
    Case(
        'functional.relation', lambda g: dict(
            student=features(g, True)[0], teacher=features(g, False)[0]),
        _relation),
    Case(
        'functional.fgd',
        lambda g: dict(
            boxes=[rotated_boxes(g, 6), torch.zeros(0, 5)],  # one empty
            feat=features(g, True)[0],
            logits=torch.randn(2, 1, 32, 32, generator=g)),
        lambda boxes, feat, logits: dict(
            masks=fn.fgd_masks(boxes, (32, 32), (8.0, 8.0)),
            context=fn.global_context(feat, logits))),
    Case(
        'functional.hardness', lambda g: dict(
            rboxes=rotated_boxes(g, 10), hboxes=horizontal_boxes(g, 10)),
        _hardness),
    Case(
        'functional.box_deltas', lambda g: dict(
            rpred=jittered(g, rotated_boxes(g, 10), 4).requires_grad_(),
            rtarget=rotated_boxes(g, 10),
            hpred=horizontal_boxes(g, 10).requires_grad_(),
            htarget=horizontal_boxes(g, 10)),
        lambda rpred, rtarget, hpred, htarget: dict(
            rotated=fn.box_deltas(rpred, rtarget, (0.1, 0.1, 0.2, 0.2, 0.1)),
            horizontal=fn.box_deltas(hpred, htarget))),
    Case(
        'functional.instance_selection',
        lambda g: {
            k: v
            for k, v in isd_inputs(g, True).items()
            if k in ('teacher_preds', 'gt_bboxes', 'gt_labels')
        },
        lambda teacher_preds, gt_bboxes, gt_labels: _instance_selection(
            teacher_preds, gt_bboxes, gt_labels),
        tol=RELAXED,
        needs_ops=True),
    Case(
        'distillers.samples (loss-pass ISD instances)',
        _loss_pass_inputs,
        _loss_pass,
        tol=RELAXED,
        needs_ops=True),
    Case(
        'functional.roi_features',
        _roi_inputs,
        _roi_features,
        grad_tol=RELAXED,
        needs_ops=True),
    Case(
        'DynamicGlobalDistillLoss (rotated)', lambda g: dict(
            loss=DynamicGlobalDistillLoss(),
            gt_bboxes=[rotated_boxes(g, 6),
                       rotated_boxes(g, 3)],
            batch_input_shape=INPUT,
            **feature_pair(g)), _call),
    Case(
        'DynamicGlobalDistillLoss (horizontal, raw, top-k, no box)',
        lambda g: dict(
            loss=DynamicGlobalDistillLoss(
                bg_topk_ratio=0.5, standardize=False, pool_size=8),
            gt_bboxes=[horizontal_boxes(g, 6),
                       torch.zeros(0, 4)],
            batch_input_shape=INPUT,
            **feature_pair(g)), _call),
    *(Case(
        f'InstanceSelectionDistillLoss ({kind})',
        partial(isd_inputs, rotated=rotated),
        _call,
        tol=RELAXED,
        grad_tol=RELAXED,
        needs_ops=True)
      for kind, rotated in (('rotated', True), ('horizontal', False))),
    Case('TSALoss (GWD, L1 on deltas, GIoU)', _tsa_inputs, _tsa),
    Case('FGDLoss (rotated)', _fgd_inputs, _call),
    Case('FitNetLoss', lambda g: dict(loss=FitNetLoss(), **feature_pair(g)),
         _call),
    Case('PKDLoss (resized student)', _pkd_inputs, _call, grad_tol=RELAXED),
    Case('CWDLoss', lambda g: dict(loss=CWDLoss(tau=2.0), **feature_pair(g)),
         _call),
]
