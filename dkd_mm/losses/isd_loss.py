"""ISD: dynamic instance selection distillation.

DKD (Zhang et al., "Learning Efficient and Accurate Detectors With Dynamic
Knowledge Distillation in Remote Sensing Imagery", IEEE TGRS 2021): "dynamic
instance selection gives students the ability of self-judgment through the
magnitude of detection loss".  dkd_mm's formulation (docs/method.md, ISD):
candidates are the teacher's post-NMS instances (score >= score_thr); each
is judged by l = -log(p) + (1 - IoU) against its GT box; it is distilled iff
it beats the student on that box (l_T(i) < l_S(g)) and is no outlier
(l_T(i) <= mean + k * std).  With weights w_i proportional to
(l_S(g) - l_T(i)) * omega_g (TSA's status weight) and R the 7x7 RoI
features of both detectors' standardised FPN levels (per channel over the
batch, as PKD, so the terms do not depend on either feature scale):

    L = w1 * sum_i w_i mean (R_S(i) - R_T(i))^2
        + w2 * MSE(cos(R_S pooled), cos(R_T pooled))
"""
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dkd_mm.functional import (MISS_LOSS, OUTLIER_RULES, Selection,
                               box_hardness, cosine_matrix, feature_strides,
                               flatten_gt_index, gt_det_losses,
                               instance_det_losses, pearson_normalize,
                               roi_features, select_instances, status_weights)
from dkd_mm.registry import MODELS


@MODELS.register_module()
class InstanceSelectionDistillLoss(nn.Module):
    """ISD over the teacher's selected instances.

    Args:
        score_thr (float): Teacher candidates' minimum score.
            Defaults to 0.3.
        max_per_img (int): Most candidates per image. Defaults to 100.
        iou_thr (float): IoU to match an instance to a GT box.
            Defaults to 0.5.
        k_std (float): Outlier threshold in std. Defaults to 1.0.
        outlier_rule (str): ``'mean_std'`` (mean + k_std std of the matched
            teacher losses) or ``'median_mad'`` (median + k_std robust std,
            :func:`~dkd_mm.functional.instance_selection.outlier_limit`).
            Defaults to 'mean_std'.
        miss_loss (float): Student loss of an unmatched GT box.
            Defaults to -log(0.05) + 1.
        feat_weight (float): Weight w1 of the RoI feature term, a weighted
            mean of per-instance MSEs of standardised features (about 2 for
            unrelated features). Defaults to 1.0.
        relation_weight (float): Weight w2 of the relation term, an MSE of
            cosines in [0, 4]. Defaults to 1.0.
        standardize (bool): Standardise the FPN levels before pooling.
            False gives the earlier raw-feature form. Defaults to True.
        use_status (bool): Multiply w_i by TSA's omega of the GT box.
            Defaults to True.
        loss_weight (float): Weight of the whole loss. Defaults to 1.0.
    """

    def __init__(self,
                 score_thr: float = 0.3,
                 max_per_img: int = 100,
                 iou_thr: float = 0.5,
                 k_std: float = 1.0,
                 outlier_rule: str = 'mean_std',
                 miss_loss: float = MISS_LOSS,
                 feat_weight: float = 1.0,
                 relation_weight: float = 1.0,
                 standardize: bool = True,
                 use_status: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.score_thr = score_thr
        self.max_per_img = max_per_img
        self.iou_thr = iou_thr
        self.k_std = k_std
        if outlier_rule not in OUTLIER_RULES:
            raise ValueError(f'outlier_rule must be one of {OUTLIER_RULES}, '
                             f'got {outlier_rule!r}')
        self.outlier_rule = outlier_rule
        self.miss_loss = miss_loss
        self.feat_weight = feat_weight
        self.relation_weight = relation_weight
        self.standardize = standardize
        self.use_status = use_status
        self.loss_weight = loss_weight

    def candidates(self, preds: Sequence) -> List:
        """Teacher instances with score >= score_thr, at most max_per_img."""
        out = []
        for p in preds:
            keep = p.scores >= self.score_thr
            p = p[keep]
            if len(p) > self.max_per_img:
                p = p[p.scores.topk(self.max_per_img).indices]
            out.append(p)
        return out

    def select(self, teacher_preds: Sequence, student_preds: Sequence,
               gt_bboxes: List[Tensor], gt_labels: List[Tensor],
               train_status: float):
        """Run the self-judgment; returns (candidates, Selection)."""
        cands = self.candidates(teacher_preds)
        t_losses, t_match, s_gt = [], [], []
        for cand, pred, gt_b, gt_l in zip(cands, student_preds, gt_bboxes,
                                          gt_labels):
            loss, match = instance_det_losses(cand.bboxes, cand.scores,
                                              cand.labels, gt_b, gt_l,
                                              self.iou_thr)
            t_losses.append(loss)
            t_match.append(match)
            s_loss, s_match = instance_det_losses(pred.bboxes, pred.scores,
                                                  pred.labels, gt_b, gt_l,
                                                  self.iou_thr)
            s_gt.append(
                gt_det_losses(s_loss, s_match, len(gt_b), self.miss_loss))
        all_gt = torch.cat(gt_bboxes) if gt_bboxes else torch.zeros(0, 5)
        omega = torch.ones(len(all_gt), device=all_gt.device)
        if self.use_status and len(all_gt):
            omega = status_weights(box_hardness(all_gt), train_status)
        selection = select_instances(
            torch.cat(t_losses),
            flatten_gt_index(t_match, [len(g) for g in gt_bboxes]),
            torch.cat(s_gt), omega, self.k_std, self.outlier_rule)
        return cands, selection

    def forward(self, student_feats: Sequence[Tensor],
                teacher_feats: Sequence[Tensor], teacher_preds: Sequence,
                student_preds: Sequence, gt_bboxes: List[Tensor],
                gt_labels: List[Tensor], batch_input_shape: Sequence[int],
                train_status: float) -> Dict[str, Tensor]:
        """
        Args:
            student_feats (Sequence[Tensor]): Adapted student levels, each
                (N, C, H_l, W_l).
            teacher_feats (Sequence[Tensor]): Teacher levels, same shapes.
            teacher_preds, student_preds (Sequence[InstanceData]): Post-NMS
                ``bboxes`` (K, 4|5), ``scores``, ``labels`` per image.
            gt_bboxes (list[Tensor]): (G_i, 4|5) per image.
            gt_labels (list[Tensor]): (G_i,) per image.
            batch_input_shape (Sequence[int]): Padded (H, W).
            train_status (float): psi in [0, 1]
                (:mod:`dkd_mm.utils.train_status`).

        Returns:
            dict[str, Tensor]: ``feat`` and ``relation`` terms, and the
            batch's counts to log (not added to the loss, see
            :mod:`dkd_mm.distillers.context`): ``log_candidates``,
            ``log_selected``, ``log_outliers``, ``log_false_positives``.
        """
        cands, sel = self.select(teacher_preds, student_preds, gt_bboxes,
                                 gt_labels, train_status)
        counts = self.counts(sel)
        zero = 0 * sum(f.sum() for f in student_feats)
        if not sel.selected.any():
            return dict(feat=zero, relation=zero, **counts)
        offsets = torch.tensor([0] + [len(c) for c in cands]).cumsum(0)
        boxes = [
            c.bboxes[sel.selected[offsets[i]:offsets[i + 1]]]
            for i, c in enumerate(cands)
        ]
        strides = [
            feature_strides(f.shape[-2:], batch_input_shape)
            for f in teacher_feats
        ]
        if self.standardize:
            student_feats = [pearson_normalize(f) for f in student_feats]
        with torch.no_grad():
            if self.standardize:
                teacher_feats = [pearson_normalize(f) for f in teacher_feats]
            roi_t = roi_features(teacher_feats, boxes, strides)
        roi_s = roi_features(student_feats, boxes, strides)
        weights = sel.weights[sel.selected]
        per_inst = (roi_s - roi_t).pow(2).flatten(1).mean(dim=1)
        feat = (weights * per_inst).sum()
        relation = zero
        if len(weights) > 1:
            relation = F.mse_loss(
                cosine_matrix(roi_s.mean(dim=(2, 3))),
                cosine_matrix(roi_t.mean(dim=(2, 3))))
        return dict(
            feat=self.loss_weight * self.feat_weight * feat + zero,
            relation=self.loss_weight * self.relation_weight * relation + zero,
            **counts)

    @staticmethod
    def counts(sel: Selection) -> Dict[str, Tensor]:
        """The self-judgment's counts over the batch, as ``log_*`` values.

        Args:
            sel (Selection): The batch's selection over ``K`` candidates.

        Returns:
            dict[str, Tensor]: Scalar float counts of candidates, selected
            instances, outliers and false positives.
        """
        values = dict(
            candidates=sel.selected.numel(),
            selected=sel.selected.sum(),
            outliers=sel.outlier.sum(),
            false_positives=sel.false_positive.sum())
        return {
            f'log_{key}':
            torch.as_tensor(value, device=sel.selected.device).float()
            for key, value in values.items()
        }
