import pytest
import torch

from dkd_mm.functional import paired_levels


def test_pairs_levels_and_detaches_the_teacher():
    student = [torch.randn(2, 4, 8, 8, requires_grad=True)]
    teacher = [torch.randn(2, 4, 8, 8, requires_grad=True)]
    [(s, t)] = paired_levels(student, teacher)
    assert s is student[0] and s.requires_grad
    assert not t.requires_grad and torch.equal(t, teacher[0])
    # One tensor is one level.
    assert len(paired_levels(student[0], teacher[0])) == 1


def test_checks_counts_and_shapes():
    feat = torch.zeros(2, 4, 8, 8)
    with pytest.raises(ValueError, match='1 student levels but 2 teacher'):
        paired_levels([feat], [feat, feat])
    with pytest.raises(ValueError, match=r'level 0: .* differ in \(N, C, H'):
        paired_levels([feat], [torch.zeros(2, 4, 4, 4)])
    # Sizes may differ when only (N, C) must agree.
    assert len(
        paired_levels([feat], [torch.zeros(2, 4, 4, 4)], same_size=False)) == 1
    with pytest.raises(ValueError, match=r'differ in \(N, C\)'):
        paired_levels([feat], [torch.zeros(2, 8, 8, 8)], same_size=False)
