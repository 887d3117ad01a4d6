import math

import pytest
import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import (MISS_LOSS, flatten_gt_index, gt_det_losses,
                               instance_det_losses, pairwise_iou,
                               select_instances)

INF = float('inf')


def test_miss_loss_value():
    # A GT box the student misses costs as much as a perfectly placed
    # instance of score 0.05: -log(0.05) + (1 - 0) = 2.9957 + 1.
    assert MISS_LOSS == pytest.approx(-math.log(0.05) + 1)
    assert MISS_LOSS == pytest.approx(3.995732, abs=1e-6)


def test_rotated_iou_identical_half_shifted_and_quarter_turned():
    # 10 x 10 squares: shifted by 5 along x -> overlap 5 * 10 = 50, union
    # 100 + 100 - 50 = 150 -> 1/3; a square turned by pi/2 about its own
    # centre is the same square -> 1; a 20 x 10 box turned by pi/2 (10 x 20)
    # -> overlap 10 * 10 = 100, union 200 + 200 - 100 = 300 -> 1/3.
    boxes1 = torch.tensor([[0., 0., 10., 10., 0.], [0., 0., 20., 10., 0.]])
    boxes2 = torch.tensor([[0., 0., 10., 10., 0.], [5., 0., 10., 10., 0.],
                           [0., 0., 10., 10., math.pi / 2],
                           [0., 0., 20., 10., math.pi / 2]])
    iou = pairwise_iou(boxes1, boxes2)
    assert iou.shape == (2, 4)
    torch.testing.assert_close(iou[0, :3], torch.tensor([1., 1 / 3, 1.]))
    assert iou[1, 3].item() == pytest.approx(1 / 3, abs=1e-5)


def test_horizontal_iou_and_empty_sets():
    # (0, 0, 10, 10) vs (5, 0, 15, 10): 50 / 150; disjoint -> 0.
    boxes1 = torch.tensor([[0., 0., 10., 10.]])
    boxes2 = torch.tensor([[0., 0., 10., 10.], [5., 0., 15., 10.],
                           [20., 20., 30., 30.]])
    torch.testing.assert_close(
        pairwise_iou(boxes1, boxes2), torch.tensor([[1., 1 / 3, 0.]]))
    assert pairwise_iou(boxes1, torch.zeros(0, 4)).shape == (1, 0)
    assert pairwise_iou(torch.zeros(0, 5), torch.ones(3, 5)).shape == (0, 3)


@pytest.mark.parametrize('rotated', [False, True])
def test_instance_det_losses_match_and_values(rotated):
    # GT 0: square of side 10 at the origin, label 0; GT 1: far away, label 1.
    # inst 0: on GT 0, p = 0.5, IoU 1   -> l = -log(0.5) + 0 = 0.6931
    # inst 1: GT 0 shifted by 5, IoU 1/3 < 0.5 -> unmatched (inf, -1)
    # inst 2: on GT 1 but labelled 0 -> wrong label, unmatched
    # inst 3: on GT 1, p = 1, IoU 1 -> l = 0, matched to 1
    # inst 4: p = 0 is floored at eps = 1e-6 -> l = -log(1e-6) = 13.8155
    if rotated:
        square, far = [5., 5., 10., 10., 0.], [55., 55., 10., 10., 0.]
        gt = torch.tensor([square, far])
        boxes = torch.tensor(
            [square, [10., 5., 10., 10., 0.], far, far, square])
    else:
        gt = torch.tensor([[0., 0., 10., 10.], [50., 50., 60., 60.]])
        boxes = torch.tensor([[0., 0., 10., 10.], [5., 0., 15., 10.],
                              [50., 50., 60., 60.], [50., 50., 60., 60.],
                              [0., 0., 10., 10.]])
    scores = torch.tensor([0.5, 0.9, 0.9, 1.0, 0.0])
    labels = torch.tensor([0, 0, 0, 1, 0])
    losses, matched = instance_det_losses(boxes, scores, labels, gt,
                                          torch.tensor([0, 1]))
    assert matched.tolist() == [0, -1, -1, 1, 0]
    expected = torch.tensor([math.log(2), INF, INF, 0., -math.log(1e-6)])
    torch.testing.assert_close(losses, expected, atol=1e-5, rtol=1e-5)


def test_instance_det_losses_iou_term_and_threshold():
    # GT (0, 0, 10, 10); the prediction (0, 0, 10, 5) has IoU 50 / 100 = 0.5
    # (matched at iou_thr = 0.5, inclusive) and p = e^-1:
    # l = 1 + (1 - 0.5) = 1.5.  With iou_thr = 0.6 it is unmatched.
    gt = torch.tensor([[0., 0., 10., 10.]])
    boxes = torch.tensor([[0., 0., 10., 5.]])
    scores = torch.tensor([math.exp(-1)])
    labels = torch.tensor([3])
    losses, matched = instance_det_losses(boxes, scores, labels, gt,
                                          torch.tensor([3]))
    torch.testing.assert_close(losses, torch.tensor([1.5]))
    assert matched.tolist() == [0]
    losses, matched = instance_det_losses(
        boxes, scores, labels, gt, torch.tensor([3]), iou_thr=0.6)
    assert matched.tolist() == [-1] and math.isinf(losses.item())


def test_instance_det_losses_without_gt_or_instances():
    # No GT: every instance is unmatched (a false positive), loss inf.
    losses, matched = instance_det_losses(
        torch.rand(3, 5) + 1, torch.rand(3), torch.zeros(3, dtype=torch.long),
        torch.zeros(0, 5), torch.zeros(0, dtype=torch.long))
    assert matched.tolist() == [-1, -1, -1]
    assert torch.isinf(losses).all()
    # No instance: empty outputs.
    losses, matched = instance_det_losses(
        torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long),
        torch.tensor([[0., 0., 10., 10.]]), torch.tensor([0]))
    assert losses.shape == (0, ) and matched.shape == (0, )


def test_gt_det_losses_min_over_matched_and_miss_loss():
    # GT 0 <- instances of loss 1.2 and 0.7 -> 0.7 (the best one);
    # GT 1 <- none -> miss_loss; GT 2 <- 2.0; the unmatched inf is ignored.
    inst = torch.tensor([1.2, 0.7, INF, 2.0])
    matched = torch.tensor([0, 0, -1, 2])
    torch.testing.assert_close(
        gt_det_losses(inst, matched, 3), torch.tensor([0.7, MISS_LOSS, 2.0]))
    torch.testing.assert_close(
        gt_det_losses(inst, matched, 3, miss_loss=9.),
        torch.tensor([0.7, 9., 2.0]))
    # Nothing matched, and no GT at all.
    torch.testing.assert_close(
        gt_det_losses(torch.full((2, ), INF), torch.tensor([-1, -1]), 2),
        torch.full((2, ), MISS_LOSS))
    assert gt_det_losses(torch.zeros(0), torch.zeros(0, dtype=torch.long),
                         0).shape == (0, )


def test_gt_det_losses_are_capped_at_miss_loss():
    # miss_loss also caps a matched instance's loss (the scatter's amin
    # includes the initial value): a match of p = 0.01 at IoU 0.5,
    # l = 4.605 + 0.5, counts no worse than a miss.
    loss = -math.log(0.01) + 0.5
    out = gt_det_losses(torch.tensor([loss]), torch.tensor([0]), 1)
    torch.testing.assert_close(out, torch.tensor([MISS_LOSS]))


def test_flatten_gt_index_offsets():
    # Images with 2, 0 and 3 GT boxes: offsets 0, 2, 2; -1 stays -1.
    matched = [
        torch.tensor([1, -1, 0]),
        torch.tensor([-1]),
        torch.tensor([2, -1, 0])
    ]
    flat = flatten_gt_index(matched, [2, 0, 3])
    assert flat.tolist() == [1, -1, 0, -1, 4, -1, 2]
    assert flatten_gt_index([], []).shape == (0, )


def _crafted():
    """Six teacher instances over four GT boxes (batch-flat indices).

    inst  GT  l_T  l_S(GT)     verdict
    0     0   0.5  2.0         teacher better -> selected, margin 1.5
    1     1   0.5  0.25        teacher worse -> not selected
    2     2   0.5  MISS_LOSS   student missed GT 2 -> selected,
                               margin MISS_LOSS - 0.5 = 3.4957
    3     3   0.5  0.5         a tie is not better -> not selected
    4     2   3.0  MISS_LOSS   better, but an outlier -> rejected
    5     -1  inf  -           false positive -> never selected

    Matched l_T: 0.5 x 4 and 3.0 -> mean 1.0, population std
    sqrt((4 * 0.25 + 4) / 5) = 1, so the limit mean + 1 * std is 2.0 and
    3.0 > 2.0 is an outlier.
    """
    teacher_losses = torch.tensor([0.5, 0.5, 0.5, 0.5, 3.0, INF])
    matched = torch.tensor([0, 1, 2, 3, 2, -1])
    student = torch.tensor([2.0, 0.25, MISS_LOSS, 0.5])
    return teacher_losses, matched, student


def test_select_instances_crafted_cases():
    teacher_losses, matched, student = _crafted()
    sel = select_instances(teacher_losses, matched, student, torch.ones(4))
    assert sel.selected.tolist() == [True, False, True, False, False, False]
    assert sel.outlier.tolist() == [False, False, False, False, True, False]
    assert sel.false_positive.tolist() == [False] * 5 + [True]
    assert sel.matched_gt is matched
    # Weights = margins normalised over the selected instances.
    total = 1.5 + (MISS_LOSS - 0.5)
    expected = torch.tensor(
        [1.5 / total, 0., (MISS_LOSS - 0.5) / total, 0., 0., 0.])
    torch.testing.assert_close(sel.weights, expected)
    assert torch.isfinite(sel.weights).all()


def test_select_instances_gt_weights_and_k_std():
    teacher_losses, matched, student = _crafted()
    # omega = 2 on GT 0: weights 2 * 1.5 = 3 and 3.4957, normalised.
    sel = select_instances(teacher_losses, matched, student,
                           torch.tensor([2., 1., 1., 1.]))
    total = 3.0 + MISS_LOSS - 0.5
    torch.testing.assert_close(sel.weights[[0, 2]],
                               torch.tensor([3.0, MISS_LOSS - 0.5]) / total)
    # k_std = 2: the limit is 1 + 2 * 1 = 3.0 and 3.0 <= 3.0 is kept, with
    # margin MISS_LOSS - 3.0 = 0.9957.
    sel = select_instances(
        teacher_losses, matched, student, torch.ones(4), k_std=2.)
    assert sel.selected.tolist() == [True, False, True, False, True, False]
    assert not sel.outlier.any()
    margins = torch.tensor([1.5, MISS_LOSS - 0.5, MISS_LOSS - 3.0])
    torch.testing.assert_close(sel.weights[[0, 2, 4]], margins / margins.sum())


def test_select_instances_single_match_is_no_outlier():
    # One matched instance: std 0, limit = its own loss, kept; weight 1.
    sel = select_instances(
        torch.tensor([3.0]), torch.tensor([0]), torch.tensor([MISS_LOSS]),
        torch.ones(1))
    assert sel.selected.tolist() == [True]
    torch.testing.assert_close(sel.weights, torch.tensor([1.]))


def test_select_instances_nothing_matched_or_no_candidates():
    # No GT: everything is a false positive, nothing selected, no NaN.
    sel = select_instances(
        torch.full((3, ), INF), torch.full((3, ), -1), torch.zeros(0),
        torch.ones(0))
    assert not sel.selected.any() and not sel.outlier.any()
    assert sel.false_positive.all()
    assert torch.equal(sel.weights, torch.zeros(3))
    sel = select_instances(
        torch.zeros(0), torch.zeros(0, dtype=torch.long),
        torch.tensor([MISS_LOSS]), torch.ones(1))
    assert sel.selected.shape == (0, ) and sel.weights.shape == (0, )


def test_end_to_end_student_missing_a_gt():
    # One image, GT (0, 0, 10, 10) label 0. The teacher finds it with
    # p = e^-1 and IoU 1 (l_T = 1); the student predicts only a false
    # positive far away, so l_S = MISS_LOSS and the teacher is selected
    # with weight 1.
    gt = torch.tensor([[0., 0., 10., 10.]])
    gt_labels = torch.tensor([0])
    t_loss, t_match = instance_det_losses(gt.clone(),
                                          torch.tensor([math.exp(-1)]),
                                          torch.tensor([0]), gt, gt_labels)
    s_loss, s_match = instance_det_losses(
        torch.tensor([[40., 40., 50., 50.]]), torch.tensor([0.9]),
        torch.tensor([0]), gt, gt_labels)
    student = gt_det_losses(s_loss, s_match, 1)
    torch.testing.assert_close(student, torch.tensor([MISS_LOSS]))
    sel = select_instances(t_loss, flatten_gt_index([t_match], [1]), student,
                           torch.ones(1))
    torch.testing.assert_close(t_loss, torch.tensor([1.]))
    assert sel.selected.tolist() == [True]
    torch.testing.assert_close(sel.weights, torch.tensor([1.]))


def test_outlier_limit_hand_worked():
    from dkd_mm.functional import outlier_limit

    # 1..5: mean 3, population std sqrt(2): the worst (5) is always out.
    losses = torch.tensor([1., 2., 3., 4., 5.])
    limit = outlier_limit(losses, 1., 'mean_std')
    torch.testing.assert_close(limit, torch.tensor(3 + 2**0.5))
    # Median 3, |l - 3| = (2, 1, 0, 1, 2): MAD 1; 3 + 3 * 1.4826 = 7.4478:
    # nothing out of a regular spread.
    limit = outlier_limit(losses, 3., 'median_mad')
    torch.testing.assert_close(limit, torch.tensor(3 + 3 * 1.4826))
    # ... but a far loss is: (1, 2, 3, 4, 100): median 3, MAD 1.
    far = torch.tensor([1., 2., 3., 4., 100.])
    torch.testing.assert_close(
        outlier_limit(far, 3., 'median_mad'), torch.tensor(3 + 3 * 1.4826))


def test_select_instances_median_mad_rule():
    # Five teacher instances on five GT boxes, the student worse on all
    # (l_S = 10): mean_std (k 1) rejects the worst regular one, median_mad
    # (k 3) keeps all but the far one.
    teacher = torch.tensor([1., 2., 3., 4., 9.])
    matched = torch.arange(5)
    student = torch.full((5, ), 10.)
    ones = torch.ones(5)
    by_std = select_instances(teacher, matched, student, ones, 1.0)
    assert by_std.outlier.tolist() == [False, False, False, False, True]
    regular = torch.tensor([1., 2., 3., 4., 5.])
    assert select_instances(regular, matched, student, ones,
                            1.0).outlier.tolist()[-1]
    by_mad = select_instances(regular, matched, student, ones, 3.0,
                              'median_mad')
    assert not by_mad.outlier.any() and by_mad.selected.all()
    by_mad = select_instances(teacher, matched, student, ones, 3.0,
                              'median_mad')
    # 9 > 3 + 3 * 1.4826 = 7.45: out.
    assert by_mad.outlier.tolist() == [False, False, False, False, True]
    with pytest.raises(ValueError, match='rule'):
        select_instances(teacher, matched, student, ones, 1.0, 'iqr')
