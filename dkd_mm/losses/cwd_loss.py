"""CWD: channel-wise distillation, a baseline of dkd_mm."""
import torch.nn.functional as F
from torch import Tensor, nn

from dkd_mm.functional import paired_levels
from dkd_mm.functional.levels import Feats
from dkd_mm.registry import MODELS


def channel_kl_divergence(student: Tensor,
                          teacher: Tensor,
                          tau: float = 1.0) -> Tensor:
    """KL divergence of each channel's spatial softmax, teacher to student.

    Args:
        student (Tensor): ``(N, C, H, W)`` student features.
        teacher (Tensor): ``(N, C, H, W)`` teacher features.
        tau (float): Softmax temperature. Defaults to 1.0.

    Returns:
        Tensor: ``(N, C)`` ``KL(softmax_hw(T / tau) || softmax_hw(S / tau))``.
    """
    log_p_t = F.log_softmax(teacher.flatten(2) / tau, dim=2)
    log_p_s = F.log_softmax(student.flatten(2) / tau, dim=2)
    return (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=2)


@MODELS.register_module()
class CWDLoss(nn.Module):
    """CWD (Shu et al., "Channel-wise Knowledge Distillation for Dense
    Prediction", ICCV 2021).

    Each channel of a level becomes a distribution over its ``H W`` cells,
    ``phi(y_c) = softmax(y_c / tau)``, and the student matches the
    teacher's:

        L = loss_weight * sum_l tau ** 2 / (N C)
            * sum_{n,c} KL(phi(T_{l,n,c}) || phi(S_{l,n,c}))

    As mmrazor's ``ChannelWiseDivergence``, one level at a time; defaults
    ``tau = 1``, ``loss_weight = 10`` from mmrazor's CWD RetinaNet config
    (``cwd_fpn_retina_r101_retina_r50_1x_coco.py``, inheriting the weights
    of ``cwd_fpn_frcnn_r101_frcnn_r50_1x_coco.py``, all 5 FPN levels).

    Args:
        tau (float): Softmax temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 10.0.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 10.0) -> None:
        super().__init__()
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, student_feats: Feats, teacher_feats: Feats) -> Tensor:
        """The channel-wise KL divergence, summed over levels.

        Args:
            student_feats (Tensor | tuple[Tensor]): Adapted student
                features, ``(N, C, H_l, W_l)`` per level.
            teacher_feats (Tensor | tuple[Tensor]): Teacher features, same
                shapes; detached here.

        Returns:
            Tensor: The scalar loss.
        """
        loss = 0
        for student, teacher in paired_levels(student_feats, teacher_feats):
            kl = channel_kl_divergence(student, teacher, self.tau)
            loss = loss + self.tau**2 * kl.mean()
        return self.loss_weight * loss
