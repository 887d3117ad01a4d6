"""Attention maps of a (teacher) feature map, as in FGD (Yang et al., "Focal
and Global Knowledge Distillation for Detectors", CVPR 2022, Eq. 4-5).

Both maps have mean 1 (spatial over cells, channel over channels), so
weighting a sum by them keeps its scale.
"""
import torch.nn.functional as F
from torch import Tensor


def spatial_attention(feat: Tensor, tau: float = 0.5) -> Tensor:
    """Spatial attention ``H * W * softmax_hw(mean_c |F| / tau)``.

    Args:
        feat (Tensor): ``(N, C, H, W)`` feature map.
        tau (float): Softmax temperature. Defaults to 0.5.

    Returns:
        Tensor: ``(N, 1, H, W)`` attention, summing to ``H * W`` per image.
    """
    num, _, height, width = feat.shape
    logits = feat.abs().mean(dim=1).reshape(num, -1) / tau
    attn = height * width * F.softmax(logits, dim=1)
    return attn.reshape(num, 1, height, width)


def channel_attention(feat: Tensor, tau: float = 0.5) -> Tensor:
    """Channel attention ``C * softmax_c(mean_hw |F| / tau)``.

    Args:
        feat (Tensor): ``(N, C, H, W)`` feature map.
        tau (float): Softmax temperature. Defaults to 0.5.

    Returns:
        Tensor: ``(N, C, 1, 1)`` attention, summing to ``C`` per image.
    """
    num, channels = feat.shape[:2]
    logits = feat.abs().mean(dim=(2, 3)) / tau
    attn = channels * F.softmax(logits, dim=1)
    return attn.reshape(num, channels, 1, 1)
