"""PKD: feature imitation through the Pearson correlation, a baseline of
dkd_mm."""
import torch.nn.functional as F
from torch import Tensor, nn

from dkd_mm.functional import paired_levels, pearson_normalize
from dkd_mm.functional.levels import Feats
from dkd_mm.registry import MODELS


@MODELS.register_module()
class PKDLoss(nn.Module):
    """PKD (Cao et al., "PKD: General Distillation Framework for Object
    Detectors via Pearson Correlation Coefficient", NeurIPS 2022).

    With ``s``, ``t`` the student and teacher features of a level
    normalised by :func:`pearson_normalize`:

        L = loss_weight * sum_l mean_{n,c,h,w} (s_l - t_l) ** 2 / 2

    For one channel of ``M = N H W`` values that is
    ``(1 - 1 / M) * (1 - r)``, ``r`` the Pearson correlation of the
    teacher's and student's values: the magnitude of the features no
    longer matters, only how they co-vary.

    ``loss_weight`` defaults to 10.0, mmrazor's RetinaNet config
    (``pkd_fpn_retina_x101_retina_r50_2x_coco.py``; 6 for Faster R-CNN,
    1.0 the class default there). mmrazor distils 4 of RetinaNet's 5 FPN
    levels (one loss per level); this loss sums over all levels given.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 10.0.
        resize_stu (bool): When spatial sizes differ, resize the student to
            the teacher's size (True) or the teacher to the student's
            (False), bilinearly. Defaults to True.
        eps (float): Added to the std. Defaults to 1e-6.
    """

    def __init__(self,
                 loss_weight: float = 10.0,
                 resize_stu: bool = True,
                 eps: float = 1e-6) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.resize_stu = resize_stu
        self.eps = eps

    def forward(self, student_feats: Feats, teacher_feats: Feats) -> Tensor:
        """The standardised feature MSE, summed over levels.

        Args:
            student_feats (Tensor | tuple[Tensor]): Adapted student
                features, ``(N, C, H_l, W_l)`` per level.
            teacher_feats (Tensor | tuple[Tensor]): Teacher features, same
                ``N`` and ``C``; detached here.

        Returns:
            Tensor: The scalar loss.
        """
        loss = 0
        for student, teacher in paired_levels(
                student_feats, teacher_feats, same_size=False):
            if student.shape[2:] != teacher.shape[2:]:
                if self.resize_stu:
                    student = F.interpolate(
                        student, teacher.shape[2:], mode='bilinear')
                else:
                    teacher = F.interpolate(
                        teacher, student.shape[2:], mode='bilinear')
            diff = (
                pearson_normalize(student, self.eps) -
                pearson_normalize(teacher, self.eps))
            loss = loss + diff.pow(2).mean() / 2
        return self.loss_weight * loss
