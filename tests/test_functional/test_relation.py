import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import cosine_matrix, relation_loss, relation_matrix


def test_relation_matrix_known_pair():
    # Two cells: (3, 4) -> normalised (0.6, 0.8), and (1, 0).
    # G = [[1, 0.6 * 1 + 0.8 * 0], [0.6, 1]] = [[1, 0.6], [0.6, 1]].
    feat = torch.tensor([[[[3., 1.]], [[4., 0.]]]])  # (1, 2, 1, 2)
    expected = torch.tensor([[[1., 0.6], [0.6, 1.]]])
    torch.testing.assert_close(relation_matrix(feat), expected)


def test_relation_loss_known_pair():
    # Student cells (1, 0) and (0, 1): G_s = I. Teacher G_t as above.
    # Differences: 0 on the diagonal, 0.6 off it:
    # mean = (0.36 + 0.36) / 4 = 0.18.
    teacher = torch.tensor([[[[3., 1.]], [[4., 0.]]]])
    student = torch.tensor([[[[1., 0.]], [[0., 1.]]]])
    torch.testing.assert_close(
        relation_loss(student, teacher), torch.tensor(0.18))


def test_relation_pools_to_at_most_pool_size():
    # (32, 8) pooled with P = 16 -> (16, 8): M = 128 cells.
    assert relation_matrix(torch.randn(2, 4, 32, 8)).shape == (2, 128, 128)
    # Pooling 4x4 to 2x2 averages 2x2 blocks: channel 0 is 1 on the left
    # half and channel 1 on the right half -> cells (1, 0), (0, 1), (1, 0),
    # (0, 1) row-major.
    feat = torch.zeros(1, 2, 4, 4)
    feat[0, 0, :, :2] = 1
    feat[0, 1, :, 2:] = 1
    expected = torch.tensor([[1., 0., 1., 0.], [0., 1., 0., 1.],
                             [1., 0., 1., 0.], [0., 1., 0., 1.]])
    torch.testing.assert_close(relation_matrix(feat, pool_size=2)[0], expected)


def test_relation_of_zero_features():
    # A zero cell has cosine 0 with every cell (itself included): a zero
    # student gives G_s = 0, so the loss is the mean of G_t ** 2.  Teacher
    # as in test_relation_matrix_known_pair, G_t = [[1, 0.6], [0.6, 1]]:
    # (1 + 1 + 0.36 + 0.36) / 4 = 0.68.
    teacher = torch.tensor([[[[3., 1.]], [[4., 0.]]]])
    student = torch.zeros(1, 2, 1, 2, requires_grad=True)
    torch.testing.assert_close(relation_matrix(student), torch.zeros(1, 2, 2))
    loss = relation_loss(student, teacher)
    torch.testing.assert_close(loss, torch.tensor(0.68))
    loss.backward()
    assert torch.isfinite(student.grad).all()
    # Both zero: identical (zero) affinities, no loss.
    assert relation_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4,
                                                              4)).item() == 0


def test_cosine_matrix_of_vectors_and_batches():
    # (3, 4) -> (0.6, 0.8); (1, 0); a zero vector has cosine 0 with all.
    vectors = torch.tensor([[3., 4.], [1., 0.], [0., 0.]])
    expected = torch.tensor([[1., 0.6, 0.], [0.6, 1., 0.], [0., 0., 0.]])
    torch.testing.assert_close(cosine_matrix(vectors), expected)
    # Batched (N, M, C) -> (N, M, M), as relation_matrix uses it.
    torch.testing.assert_close(
        cosine_matrix(torch.stack([vectors, 2 * vectors])),
        torch.stack([expected, expected]))
