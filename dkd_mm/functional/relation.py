"""Global relation between the cells of a feature map: the cosine affinity
of every pair of (pooled) cells."""
import torch.nn.functional as F
from torch import Tensor


def cosine_matrix(vectors: Tensor) -> Tensor:
    """Cosine similarity of every pair of vectors.

    Args:
        vectors (Tensor): ``(..., M, C)`` vectors; a zero vector has
            similarity 0 with every vector.

    Returns:
        Tensor: ``(..., M, M)`` similarities in ``[-1, 1]``.
    """
    normed = F.normalize(vectors, dim=-1)
    return normed @ normed.transpose(-1, -2)


def relation_matrix(feat: Tensor, pool_size: int = 16) -> Tensor:
    """Cosine affinity ``G = F F^T`` between the cells of a pooled map.

    The map is adaptive-average-pooled to at most ``pool_size`` cells per
    side (a side already smaller is kept), each cell's ``C``-vector is
    L2-normalised (a zero vector stays zero), and ``G[i, j]`` is the dot
    product of cells ``i`` and ``j``.

    Args:
        feat (Tensor): ``(N, C, H, W)`` feature map.
        pool_size (int): Largest pooled side ``P``. Defaults to 16.

    Returns:
        Tensor: ``(N, M, M)`` affinities in ``[-1, 1]``, with
        ``M = min(H, P) * min(W, P)``.
    """
    height, width = feat.shape[-2:]
    pooled = F.adaptive_avg_pool2d(
        feat, (min(height, pool_size), min(width, pool_size)))
    return cosine_matrix(pooled.flatten(2).transpose(1, 2))  # (N, M, C)


def relation_loss(student: Tensor,
                  teacher: Tensor,
                  pool_size: int = 16) -> Tensor:
    """Mean squared difference between student and teacher affinities.

    Args:
        student (Tensor): ``(N, C, H, W)`` student feature map.
        teacher (Tensor): ``(N, C, H, W)`` teacher feature map.
        pool_size (int): Largest pooled side. Defaults to 16.

    Returns:
        Tensor: scalar, the mean over images and over the ``M * M``
        entries of ``(G_s - G_t) ** 2``.
    """
    return F.mse_loss(
        relation_matrix(student, pool_size),
        relation_matrix(teacher, pool_size))
