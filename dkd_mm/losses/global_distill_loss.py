"""Dynamic global distillation (GD) of DKD (Zhang et al., "Learning Efficient
and Accurate Detectors With Dynamic Knowledge Distillation in Remote Sensing
Imagery", TGRS 2021), as this project formulates it (class docstring)."""
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from dkd_mm.functional import (background_weights, channel_attention,
                               feature_strides, foreground_mask, image_boxes,
                               paired_levels, pearson_normalize, relation_loss,
                               spatial_attention)
from dkd_mm.functional.levels import Feats
from dkd_mm.registry import MODELS


@MODELS.register_module()
class DynamicGlobalDistillLoss(nn.Module):
    """Foreground, dynamic-background and global-relation distillation.

    On each FPN level, teacher ``T`` and adapted student ``S``
    ``(N, C, H, W)`` are first standardised per channel over the batch
    (``pearson_normalize``, as PKD), so that no term depends on the scale
    of either network's features.  With teacher attentions ``A_s (N, H, W)``
    and ``A_c (N, C)`` of the standardised teacher (FGD's, temperature
    ``tau``, both of mean 1) and the per-cell error
    ``E = A_s * mean_c A_c * (T - S) ** 2``:

    * ``fg = alpha * sum_l sum(M_fg * E) / sum_l sum(M_fg)``, the
      ``M_fg``-weighted mean of ``E`` over every level's foreground,
      ``M_fg`` the scale-normalised box mask (1 / box area in cells, max
      over overlapping boxes), so each object weighs about the same;
    * ``bg = beta * mean_{l,n} sum_hw(M_bg * E)``, ``M_bg`` a softmax over
      each image's background cells of the detached discrepancy
      ``D = mean_c (T - S) ** 2`` (see ``background_weights``), summing to
      1 per image and level;
    * ``relation = gamma * mean_l mean((G_s - G_t) ** 2)``, ``G`` the cosine
      affinity of the cells pooled to at most ``pool_size`` per side.

    Every term is a weighted mean of errors between standardised maps: about
    2 for unrelated maps, 0 for identical ones, whatever the pair, the
    number of levels or of objects.  Each is multiplied by ``loss_weight``;
    the teacher is detached.

    Args:
        alpha (float): Weight of the foreground term. Defaults to 1.0.
        beta (float): Weight of the background term. Defaults to 0.5.
        gamma (float): Weight of the relation term. Defaults to 1.0.
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
        standardize (bool): Standardise both maps first. False gives the
            earlier raw-feature form (sums over cells, weights tied to one
            pair's feature scale; docs/method.md, history). Defaults to True.
        attention_from (str): Which teacher map the attentions ``A_s``,
            ``A_c`` are taken from: ``'standardized'`` (the map the errors
            compare; every channel then has unit spread, so ``A_c`` is
            about 1 everywhere) or ``'raw'`` (the teacher's own levels,
            where channels differ in activation). Defaults to
            'standardized'.
        loss_weight (float): Weight of all terms. Defaults to 1.0.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 beta: float = 0.5,
                 gamma: float = 1.0,
                 tau: float = 0.5,
                 bg_tau: float = 1.0,
                 bg_topk_ratio: float = 1.0,
                 bg_normalize: bool = True,
                 pool_size: int = 16,
                 standardize: bool = True,
                 attention_from: str = 'standardized',
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
        self.standardize = standardize
        if attention_from not in ('standardized', 'raw'):
            raise ValueError("attention_from must be 'standardized' or "
                             f"'raw', got {attention_from!r}")
        self.attention_from = attention_from
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
        pairs, boxes = self._pairs(student_feats, teacher_feats, gt_bboxes)
        return [
            self._level_maps(s, t, boxes, batch_input_shape, a)
            for s, t, a in pairs
        ]

    def _pairs(self, student_feats: Feats, teacher_feats: Feats,
               gt_bboxes: List[Tensor]) -> Tuple[list, List[Tensor]]:
        """Per level ``(S, T, T_attn)`` (the maps compared and the teacher
        map of the attentions), and the boxes per image."""
        pairs = paired_levels(student_feats, teacher_feats)
        boxes = image_boxes(gt_bboxes, pairs[0][0].size(0))
        compared = [(pearson_normalize(s), pearson_normalize(t),
                     t) if self.standardize else (s, t, t) for s, t in pairs]
        raw = self.attention_from == 'raw'
        pairs = [(s, t, t_raw if raw else t) for s, t, t_raw in compared]
        return pairs, boxes

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
            dict[str, Tensor]: scalar ``fg``, ``bg`` and ``relation`` terms.
        """
        pairs, boxes = self._pairs(student_feats, teacher_feats, gt_bboxes)
        fg_sum = fg_weight = bg_loss = global_loss = 0
        for student, teacher, attn_map in pairs:
            maps = self._level_maps(student, teacher, boxes, batch_input_shape,
                                    attn_map)
            num = student.size(0)
            channel_attn = maps['channel_attn_t'][:, :, None, None]
            # A_c-weighted error per cell, then the spatial weights: (N, H, W).
            error = (channel_attn * (teacher - student).pow(2))
            error = error.mean(dim=1) if self.standardize else error.sum(1)
            error = error * maps['spatial_attn_t']
            fg_sum = fg_sum + (maps['fg_mask'] * error).sum()
            fg_weight = fg_weight + maps['fg_mask'].sum()
            bg_loss = bg_loss + (maps['bg_weight'] * error).sum() / num
            global_loss = global_loss + relation_loss(student, teacher,
                                                      self.pool_size)
        if self.standardize:  # weighted means, see the class docstring
            # No foreground cell: fg_sum is 0 (with its gradient path).
            fg_loss = fg_sum / torch.as_tensor(fg_weight).clamp(min=1e-6)
            bg_loss, global_loss = bg_loss / len(pairs), global_loss / len(
                pairs)
        else:  # earlier form: sums over cells and levels, per image
            fg_loss = fg_sum / pairs[0][0].size(0)
        return {
            'fg': self.loss_weight * self.alpha * fg_loss,
            'bg': self.loss_weight * self.beta * bg_loss,
            'relation': self.loss_weight * self.gamma * global_loss
        }

    @torch.no_grad()
    def _level_maps(self, student: Tensor, teacher: Tensor,
                    boxes: List[Tensor], batch_input_shape: Tuple[int, int],
                    attn_map: Tensor) -> dict:
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
            spatial_attn_t=spatial_attention(attn_map, self.tau)[:, 0],
            channel_attn_t=channel_attention(attn_map, self.tau).flatten(1),
            discrepancy=discrepancy)
