"""Dynamic global distillation (GD) of DKD (Zhang et al., "Learning Efficient
and Accurate Detectors With Dynamic Knowledge Distillation in Remote Sensing
Imagery", TGRS 2021), as this project formulates it (class docstring)."""
from typing import Dict, List, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from dkd_mm.functional import (background_weights, channel_attention,
                               feature_strides, foreground_mask, relation_loss,
                               spatial_attention)
from dkd_mm.registry import MODELS

Feats = Union[Tensor, Sequence[Tensor]]


@MODELS.register_module()
class DynamicGlobalDistillLoss(nn.Module):
    """Foreground, dynamic-background and global-relation distillation.

    On each FPN level, with teacher ``T`` and adapted student ``S``
    ``(N, C, H, W)``, teacher attentions ``A_s (N, 1, H, W)`` and
    ``A_c (N, C, 1, 1)`` (FGD's, temperature ``tau``) and
    ``E = A_s * A_c * (T - S) ** 2``:

    * ``fg = alpha / N * sum(M_fg * E)``, ``M_fg`` the scale-normalised
      box mask (1 / box area in cells, max over overlapping boxes);
    * ``bg = beta / N * sum(M_bg * E)``, ``M_bg`` a softmax over each
      image's background cells of the detached discrepancy
      ``D = mean_c (T - S) ** 2`` (see ``background_weights``);
    * ``global = gamma * mean((G_s - G_t) ** 2)``, ``G`` the cosine
      affinity of the cells pooled to at most ``pool_size`` per side.

    Each term is summed over levels and multiplied by ``loss_weight``;
    the teacher is detached. Scale: ``M_fg`` sums to ~1 per object and
    level, ``M_bg`` to 1 per image and level. The defaults are calibrated
    (``bench/calibrate.py``, docs/method.md section 5) on the embedded data
    with a trained ResNet-50 teacher and a fresh ResNet-18 student: each
    term is then 0.1x to 1x the student's detection loss.

    Args:
        alpha (float): Weight of the foreground term. Defaults to 2e-5.
        beta (float): Weight of the background term. Defaults to 5e-6.
        gamma (float): Weight of the relation term. Defaults to 5.0.
        tau (float): Temperature of the teacher attentions. Defaults to 0.5.
        bg_tau (float): Temperature of the background softmax over the
            normalised discrepancy ``D / mean_bg(D)``: with 1.0, a cell
            ``k`` times more discrepant than the average weighs
            ``e ** (k - 1)`` times an average cell. Defaults to 1.0.
        bg_topk_ratio (float): Fraction of background cells, those of
            largest ``D``, that are distilled. Defaults to 1.0 (all).
        bg_normalize (bool): Divide ``D`` by its background mean first, so
            ``bg_tau`` does not depend on the feature scale.
            Defaults to True.
        pool_size (int): Largest side of the pooled grid of the relation
            term. Defaults to 16.
        loss_weight (float): Weight of all terms. Defaults to 1.0.
    """

    def __init__(self,
                 alpha: float = 2e-5,
                 beta: float = 5e-6,
                 gamma: float = 5.0,
                 tau: float = 0.5,
                 bg_tau: float = 1.0,
                 bg_topk_ratio: float = 1.0,
                 bg_normalize: bool = True,
                 pool_size: int = 16,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0 < bg_topk_ratio <= 1:
            raise ValueError(
                f'bg_topk_ratio must be in (0, 1], got {bg_topk_ratio}')
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        self.tau = tau
        self.bg_tau = bg_tau
        self.bg_topk_ratio = bg_topk_ratio
        self.bg_normalize = bg_normalize
        self.pool_size = pool_size
        self.loss_weight = loss_weight

    def compute_maps(self, student_feats: Feats, teacher_feats: Feats,
                     gt_bboxes: List[Tensor],
                     batch_input_shape: Tuple[int, int]) -> List[dict]:
        """The detached weight maps of every level, for visualisation.

        Args: as :meth:`forward`.

        Returns:
            list[dict]: one dict per level with ``fg_mask``, ``bg_weight``,
            ``spatial_attn_t``, ``discrepancy`` ``(N, H, W)`` and
            ``channel_attn_t`` ``(N, C)``.
        """
        pairs, boxes = _check_inputs(student_feats, teacher_feats, gt_bboxes)
        return [
            self._level_maps(s, t, boxes, batch_input_shape) for s, t in pairs
        ]

    def forward(self, student_feats: Feats, teacher_feats: Feats,
                gt_bboxes: List[Tensor],
                batch_input_shape: Tuple[int, int]) -> Dict[str, Tensor]:
        """Compute the three GD terms.

        Args:
            student_feats (Tensor | tuple[Tensor]): Adapted student
                features, ``(N, C, H_l, W_l)`` per level.
            teacher_feats (Tensor | tuple[Tensor]): Teacher features, same
                shapes; detached here.
            gt_bboxes (list[Tensor]): One ``(K_i, 4)`` horizontal or
                ``(K_i, 5)`` rotated box tensor (or mmdet ``BaseBoxes``)
                per image, in padded-input pixels.
            batch_input_shape (tuple[int, int]): Padded input ``(H, W)``.

        Returns:
            dict[str, Tensor]: scalar ``fg``, ``bg`` and ``global`` terms.
        """
        pairs, boxes = _check_inputs(student_feats, teacher_feats, gt_bboxes)
        fg_loss = bg_loss = global_loss = 0
        for student, teacher in pairs:
            maps = self._level_maps(student, teacher, boxes, batch_input_shape)
            num = student.size(0)
            channel_attn = maps['channel_attn_t'][:, :, None, None]
            # sum_c A_c (T - S)^2, then the spatial weights: (N, H, W).
            error = (channel_attn * (teacher - student).pow(2)).sum(dim=1)
            error = error * maps['spatial_attn_t']
            fg_loss = fg_loss + (maps['fg_mask'] * error).sum() / num
            bg_loss = bg_loss + (maps['bg_weight'] * error).sum() / num
            global_loss = global_loss + relation_loss(student, teacher,
                                                      self.pool_size)
        return {
            'fg': self.loss_weight * self.alpha * fg_loss,
            'bg': self.loss_weight * self.beta * bg_loss,
            'global': self.loss_weight * self.gamma * global_loss
        }

    @torch.no_grad()
    def _level_maps(self, student: Tensor, teacher: Tensor,
                    boxes: List[Tensor],
                    batch_input_shape: Tuple[int, int]) -> dict:
        feat_size = tuple(teacher.shape[-2:])
        strides = feature_strides(feat_size, batch_input_shape)
        fg_mask = torch.stack([  # float32: boxes are in pixels
            foreground_mask(
                b.to(teacher.device, torch.float32), feat_size, strides)
            for b in boxes
        ]).to(teacher.dtype)
        discrepancy = (teacher - student).pow(2).mean(dim=1)
        bg_weight = background_weights(discrepancy, fg_mask == 0, self.bg_tau,
                                       self.bg_topk_ratio, self.bg_normalize)
        return dict(
            fg_mask=fg_mask,
            bg_weight=bg_weight,
            spatial_attn_t=spatial_attention(teacher, self.tau)[:, 0],
            channel_attn_t=channel_attention(teacher, self.tau).flatten(1),
            discrepancy=discrepancy)


def _check_inputs(student_feats: Feats, teacher_feats: Feats,
                  gt_bboxes: List[Tensor]) -> Tuple[list, List[Tensor]]:
    """Pair the levels (teacher detached) and unwrap the boxes."""
    if isinstance(student_feats, Tensor):
        student_feats = (student_feats, )
    if isinstance(teacher_feats, Tensor):
        teacher_feats = (teacher_feats, )
    if len(student_feats) != len(teacher_feats):
        raise ValueError(f'{len(student_feats)} student levels but '
                         f'{len(teacher_feats)} teacher levels')
    pairs = [(s, t.detach()) for s, t in zip(student_feats, teacher_feats)]
    for level, (student, teacher) in enumerate(pairs):
        if student.shape != teacher.shape:
            raise ValueError(
                f'level {level}: student {tuple(student.shape)} and teacher '
                f'{tuple(teacher.shape)} differ; adapt the student first')
    if len(gt_bboxes) != student_feats[0].size(0):
        raise ValueError(f'got {len(gt_bboxes)} gt_bboxes entries for '
                         f'{student_feats[0].size(0)} images')
    return pairs, [getattr(b, 'tensor', b) for b in gt_bboxes]
