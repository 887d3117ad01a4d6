"""FGD: focal and global distillation, a baseline of dkd_mm."""
from typing import Dict, List, Sequence, Tuple, Union

from torch import Tensor, nn

from dkd_mm.functional import (channel_attention, feature_strides, image_boxes,
                               paired_levels, spatial_attention)
from dkd_mm.functional.fgd import fgd_masks, global_context
from dkd_mm.functional.levels import Feats
from dkd_mm.registry import MODELS


class GlobalContextBlock(nn.Module):
    """FGD's GcBlock ``G(F) = F + W2 ReLU(LN(W1 context(F)))``.

    Context logits are kaiming-initialised and the last conv is zero, as in
    FGD, so ``G`` starts as the identity.

    Args:
        channels (int): Feature channels ``C``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.context_logits = nn.Conv2d(channels, 1, kernel_size=1)
        self.channel_add = nn.Sequential(
            nn.Conv2d(channels, channels // 2, kernel_size=1),
            nn.LayerNorm([channels // 2, 1, 1]), nn.ReLU(inplace=True),
            nn.Conv2d(channels // 2, channels, kernel_size=1))
        nn.init.kaiming_normal_(self.context_logits.weight, mode='fan_in')
        nn.init.zeros_(self.context_logits.bias)
        nn.init.zeros_(self.channel_add[-1].weight)
        nn.init.zeros_(self.channel_add[-1].bias)

    def forward(self, feat: Tensor) -> Tensor:
        """``(N, C, H, W)`` -> ``(N, C, H, W)``."""
        context = global_context(feat, self.context_logits(feat))
        return feat + self.channel_add(context)


@MODELS.register_module()
class FGDLoss(nn.Module):
    """Focal and Global Distillation (Yang et al., "Focal and Global Knowledge
    Distillation for Detectors", CVPR 2022).

    Per FPN level, teacher ``T`` and adapted student ``S`` ``(N, C, H, W)``,
    attentions ``A_s = H W softmax_hw(mean_c |F| / temp)`` ``(N, 1, H, W)``
    and ``A_c = C softmax_c(mean_hw |F| / temp)`` ``(N, C, 1, 1)``, and
    ``E = A_s(T) A_c(T) (S - T) ** 2``:

    * ``fg = alpha / N * sum(M_fg E)``, ``bg = beta / N * sum(M_bg E)``;
      ``M_fg`` is ``1 / (box area in cells)`` in boxes (max over boxes),
      ``M_bg`` 1 elsewhere over the number of such cells (``fgd_masks``);
    * ``attn = gamma / N * (|A_s(T) - A_s(S)|_1 + |A_c(T) - A_c(S)|_1)``;
    * ``global = lambda / N * sum((G_s(S) - G_t(T)) ** 2)``, ``G`` learnable
      GcBlocks; as in FGD's code, student and teacher have their own
      (``conv_mask_s``/``conv_mask_t``), per level.

    Terms are summed over levels, then multiplied by ``loss_weight``.
    Defaults: FGD's RetinaNet configs (``fgd_retina_*_2x_coco.py``).

    Where the public code (yzd-v/FGD ``mmdet/distillation/losses/fgd.py``)
    differs: ``Mask_fg[i][wmin:wmax + 1, hmin:hmax + 1]`` indexes the rows
    with x ranges and the columns with y ranges, mirroring every box about
    the diagonal (right only when its x and y cell ranges coincide); boxes
    are rounded outwards (floor/ceil) plus one more cell right and below
    (the inclusive ``+ 1``), area likewise; boxes are scaled by
    ``img_shape``, not the padded input; a Python loop runs over boxes, and
    only horizontal boxes are handled. Here a cell counts when its centre
    is in a box, horizontal or rotated, vectorised (``foreground_mask``).

    Args:
        in_channels (int | Sequence[int]): Teacher channels ``C``, or one
            per level for a neck whose levels differ. Defaults to 256.
        num_levels (int): FPN levels, one GcBlock pair each. Defaults to 5.
        temp (float): Attention temperature. Defaults to 0.5.
        alpha_fgd (float): Foreground weight. Defaults to 0.001.
        beta_fgd (float): Background weight. Defaults to 0.0005.
        gamma_fgd (float): Attention weight. Defaults to 0.0005.
        lambda_fgd (float): Global weight. Defaults to 0.000005.
        loss_weight (float): Weight of all terms. Defaults to 1.0.
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]] = 256,
                 num_levels: int = 5,
                 temp: float = 0.5,
                 alpha_fgd: float = 0.001,
                 beta_fgd: float = 0.0005,
                 gamma_fgd: float = 0.0005,
                 lambda_fgd: float = 0.000005,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.in_channels, self.num_levels = in_channels, num_levels
        self._level_channels = [in_channels] * num_levels if isinstance(
            in_channels, int) else [int(c) for c in in_channels]
        if len(self._level_channels) != num_levels:
            raise ValueError(f'in_channels {list(in_channels)} has '
                             f'{len(self._level_channels)} levels, '
                             f'num_levels is {num_levels}')
        self.temp = temp
        self.alpha_fgd, self.beta_fgd = alpha_fgd, beta_fgd
        self.gamma_fgd, self.lambda_fgd = gamma_fgd, lambda_fgd
        self.loss_weight = loss_weight
        self.gc_student = nn.ModuleList(
            GlobalContextBlock(c) for c in self._level_channels)
        self.gc_teacher = nn.ModuleList(
            GlobalContextBlock(c) for c in self._level_channels)

    def forward(self, student_feats: Feats, teacher_feats: Feats,
                gt_bboxes: List[Tensor],
                batch_input_shape: Tuple[int, int]) -> Dict[str, Tensor]:
        """FGD's four terms, each summed over levels.

        Args: those of every feature loss of the distiller, as
        :meth:`~dkd_mm.losses.DynamicGlobalDistillLoss.forward` takes them
        (adapted student and teacher maps per level, boxes per image in
        padded-input pixels, the padded input's size).

        Returns:
            dict[str, Tensor]: Scalar ``fg``, ``bg``, ``attn``, ``global``.
        """
        pairs = paired_levels(student_feats, teacher_feats)
        if len(pairs) != self.num_levels:
            raise ValueError(f'FGDLoss(num_levels={self.num_levels}) got '
                             f'{len(pairs)} levels')
        boxes = image_boxes(gt_bboxes, pairs[0][0].size(0))
        terms = dict.fromkeys(('fg', 'bg', 'attn', 'global'), 0)
        for level, (student, teacher) in enumerate(pairs):
            num, channels, height, width = teacher.shape
            if channels != self._level_channels[level]:
                raise ValueError(f'level {level}: {channels} channels, '
                                 f'in_channels {self.in_channels}')
            strides = feature_strides((height, width), batch_input_shape)
            fg_mask, bg_mask = fgd_masks([b.to(teacher.device) for b in boxes],
                                         (height, width), strides)
            spatial_t = spatial_attention(teacher, self.temp)
            channel_t = channel_attention(teacher, self.temp)
            error = (spatial_t * channel_t * (student - teacher).pow(2)).sum(1)
            terms['fg'] += (fg_mask.to(error) * error).sum() / num
            terms['bg'] += (bg_mask.to(error) * error).sum() / num
            spatial_s = spatial_attention(student, self.temp)
            channel_s = channel_attention(student, self.temp)
            terms['attn'] += ((spatial_s - spatial_t).abs().sum() +
                              (channel_s - channel_t).abs().sum()) / num
            relation = (self.gc_student[level](student) -
                        self.gc_teacher[level](teacher)).pow(2).sum()
            terms['global'] += relation / num
        weights = (self.alpha_fgd, self.beta_fgd, self.gamma_fgd,
                   self.lambda_fgd)
        return {
            key: self.loss_weight * weight * terms[key]
            for key, weight in zip(terms, weights)
        }
