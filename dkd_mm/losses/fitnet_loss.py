"""FitNet-style FPN feature imitation, the plain baseline of dkd_mm.

Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015, applied to
every FPN level as in Chen et al., "Learning Efficient Object Detection
Models with Knowledge Distillation", NeurIPS 2017:

    L = loss_weight * sum_l mean_{n,c,h,w} (phi(S_l) - T_l)^2

where phi is the distiller's 1x1 adapter.  Every cell counts alike, so the
background dominates: the comparison DKD's dynamic masks are measured
against.
"""
from typing import Sequence, Union

from torch import Tensor, nn

from dkd_mm.functional import paired_levels
from dkd_mm.registry import MODELS


def feature_mse(student: Tensor, teacher: Tensor) -> Tensor:
    """Mean squared error between two feature maps of one level.

    Args:
        student (Tensor): Adapted student features, (N, C, H, W).
        teacher (Tensor): Teacher features, (N, C, H, W).

    Returns:
        Tensor: Scalar mean over all elements.
    """
    if student.shape != teacher.shape:
        raise ValueError('feature shapes differ: student '
                         f'{tuple(student.shape)}, teacher '
                         f'{tuple(teacher.shape)}')
    return (student - teacher.detach()).pow(2).mean()


@MODELS.register_module()
class FitNetLoss(nn.Module):
    """Mean squared error over FPN levels, summed over levels.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, student_feats: Union[Tensor, Sequence[Tensor]],
                teacher_feats: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """
        Args:
            student_feats (Tensor | tuple[Tensor]): Adapted student features,
                each (N, C, H_l, W_l).
            teacher_feats (Tensor | tuple[Tensor]): Teacher features, same
                shapes.

        Returns:
            Tensor: The scalar loss.
        """
        loss = sum(
            feature_mse(s, t)
            for s, t in paired_levels(student_feats, teacher_feats))
        return self.loss_weight * loss
