"""Feature standardisation shared by the feature-imitation losses."""
from torch import Tensor


def pearson_normalize(feat: Tensor, eps: float = 1e-6) -> Tensor:
    """Zero mean, unit (unbiased) std per channel over ``(N, H, W)``.

    As mmrazor's ``PKDLoss.norm`` (the PKD authors' code): the statistics
    of a channel are taken over the whole batch, not per image.  Errors
    between standardised maps do not depend on the scale of either
    network's features, so one loss weight serves every detector pair and
    keeps its meaning while the teacher's or the student's features grow.

    Args:
        feat (Tensor): ``(N, C, H, W)`` feature map.
        eps (float): Added to the std. Defaults to 1e-6.

    Returns:
        Tensor: ``(N, C, H, W)`` normalised features.
    """
    mean = feat.mean(dim=(0, 2, 3), keepdim=True)
    std = feat.std(dim=(0, 2, 3), keepdim=True)
    return (feat - mean) / (std + eps)
