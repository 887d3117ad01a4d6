import math

import pytest
import torch
from mmengine.structures import InstanceData

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import MISS_LOSS
from dkd_mm.losses.isd_loss import InstanceSelectionDistillLoss
from dkd_mm.registry import MODELS

# Two 64 x 64 images, levels of stride 8 (8 x 8) and 16 (4 x 4); every box
# here has sqrt(wh) < 112, so all RoIs come from level 0.
INPUT = (64, 64)
SIZES = (8, 4)
# Unit term weights and raw features, so the hand-worked values are the raw
# terms (the default standardised form has a derivation of its own below).
UNIT = dict(
    use_status=False, feat_weight=1.0, relation_weight=1.0, standardize=False)


def _to_rotated(boxes):
    """(K, 4) x1y1x2y2 -> (K, 5) cx, cy, w, h, 0: the same regions."""
    x1, y1, x2, y2 = boxes.unbind(1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1,
                        torch.zeros_like(x1)],
                       dim=1)


def _instances(boxes, scores, labels, rotated):
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    return InstanceData(
        bboxes=_to_rotated(boxes) if rotated else boxes,
        scores=torch.tensor(scores, dtype=torch.float32),
        labels=torch.tensor(labels, dtype=torch.long))


def _crafted(rotated):
    """Teacher candidates over four GT boxes in two images.

    Image 0: GT g0 = (8, 8, 40, 40) label 0, g1 = (44, 8, 60, 56) label 1.
    Image 1: GT g2 = (16, 16, 48, 48) label 0, g3 = (0, 40, 24, 64) label 1.
    Identical boxes have IoU 1, so l = -log(p).

    cand  on        p        l_T   l_S(GT)            verdict
    t0    g0        e^-0.1   0.1   2.0 (p = e^-2)     selected, margin 1.9
    t1    g1        e^-0.1   0.1   0.05 (p = e^-.05)  teacher worse
    t2    (0, 48, 8, 56) 0.95  -     -              false positive (IoU 0)
    t3    g0, label 1    0.95  -     -              false positive (label)
    t4    g2        e^-1.1   1.1   MISS_LOSS          better, but outlier
    t5    g3        e^-0.1   0.1   MISS_LOSS          selected (student
                                                      missed g3), margin
                                                      MISS_LOSS - 0.1
    t6    g2        0.2      -     -                  below score_thr 0.3

    Matched l_T = 0.1, 0.1, 1.1, 0.1: mean 0.35, population std
    sqrt((3 * 0.25^2 + 0.75^2) / 4) = 0.433, limit 0.783 < 1.1.
    Counts: 6 candidates, 2 selected, 1 outlier, 2 false positives.
    """
    e = math.exp
    gt = [[[8, 8, 40, 40], [44, 8, 60, 56]], [[16, 16, 48, 48],
                                              [0, 40, 24, 64]]]
    teacher = [
        _instances(gt[0] + [[0, 48, 8, 56], gt[0][0]],
                   [e(-0.1), e(-0.1), 0.95, 0.95], [0, 1, 0, 1], rotated),
        _instances(gt[1] + [gt[1][0]], [e(-1.1), e(-0.1), 0.2], [0, 1, 0],
                   rotated),
    ]
    student = [
        _instances(gt[0], [e(-2), e(-0.05)], [0, 1], rotated),
        _instances([], [], [], rotated),
    ]
    gt_boxes = [teacher[0].bboxes[:2].clone(), teacher[1].bboxes[:2].clone()]
    gt_labels = [torch.tensor([0, 1]), torch.tensor([0, 1])]
    return teacher, student, gt_boxes, gt_labels


def _feats(seed=0, channels=4, value=None, grad=True):
    gen = torch.Generator().manual_seed(seed)
    feats = []
    for size in SIZES:
        feat = torch.randn(2, channels, size, size, generator=gen)
        if value is not None:
            feat = torch.full_like(feat, value)
        feats.append(feat.requires_grad_(grad))
    return feats


def _logged(out):
    """The counts ISD returns to log (``log_*``, not added to the loss)."""
    keys = ('candidates', 'selected', 'outliers', 'false_positives')
    return [out[f'log_{k}'].item() for k in keys]


@pytest.mark.parametrize('rotated', [False, True])
def test_selection_counts_and_weights(rotated):
    teacher, student, gt_boxes, gt_labels = _crafted(rotated)
    loss = InstanceSelectionDistillLoss(**UNIT)
    cands, sel = loss.select(teacher, student, gt_boxes, gt_labels, 0.)
    assert [len(c) for c in cands] == [4, 2]  # t6 is below score_thr
    assert sel.selected.tolist() == [True, False, False, False, False, True]
    assert sel.outlier.tolist() == [False] * 4 + [True, False]
    assert sel.false_positive.tolist() == [
        False, False, True, True, False, False
    ]
    # Batch-flat GT indices: image 1's GT start at 2.
    assert sel.matched_gt.tolist() == [0, 1, -1, -1, 2, 3]
    total = 1.9 + MISS_LOSS - 0.1
    torch.testing.assert_close(
        sel.weights[sel.selected],
        torch.tensor([1.9, MISS_LOSS - 0.1]) / total,
        atol=1e-5,
        rtol=1e-5)


@pytest.mark.parametrize('rotated', [False, True])
def test_known_values_and_logging(rotated):
    # Teacher 1 everywhere, student 0: every pooled cell differs by 1, so
    # feat = sum_i w_i * 1 = 1.  Pooled teacher vectors are all ones (cosine
    # 1 between every pair); zero student vectors normalise to 0 (cosine
    # 0): relation = mean((0 - 1)^2) = 1.  Weights 2, 3 and loss_weight
    # 0.5 scale the terms to 1.0 and 1.5.
    teacher, student, gt_boxes, gt_labels = _crafted(rotated)
    loss = MODELS.build(
        dict(
            type='dkd_mm.InstanceSelectionDistillLoss',
            feat_weight=2.,
            relation_weight=3.,
            loss_weight=0.5,
            standardize=False,
            use_status=False))
    out = loss(
        _feats(value=0.), _feats(value=1., grad=False), teacher, student,
        gt_boxes, gt_labels, INPUT, 0.)
    torch.testing.assert_close(out['feat'], torch.tensor(1.0))
    torch.testing.assert_close(out['relation'], torch.tensor(1.5))
    assert _logged(out) == [6, 2, 1, 2]


def _block_feats(seed, a, b):
    """Random levels whose level 0 is constant per channel where each
    selected RoI samples it: ``a`` (C,) on cells [0:6, 0:6] of image 0
    (t0 = (8, 8, 40, 40): aligned RoIAlign samples x, y in (0.64, 4.36)
    cells, so it interpolates cells 0..5) and ``b`` on [4:8, 0:4] of image
    1 (t5 = (0, 40, 24, 64): x in (-0.36, 2.36), clamped at 0, and y in
    (4.64, 7.36), clamped at 7).  Any RoI feature of a constant region is
    that constant, whatever the bilinear weights."""
    feats = _feats(seed=seed, grad=False)
    feats[0][0, :, 0:6, 0:6] = a[:, None, None]
    feats[0][1, :, 4:8, 0:4] = b[:, None, None]
    return feats


def _standardised(level):
    """The docstring's standardisation, written out in float64: per
    channel over the N H W values of the level, unbiased std."""
    values = level.double().transpose(0, 1).reshape(level.size(1), -1)
    count = values.size(1)
    mean = values.sum(dim=1, keepdim=True) / count
    var = (values - mean).pow(2).sum(dim=1, keepdim=True) / (count - 1)
    return ((values - mean) / var.sqrt()).reshape(
        level.size(1), level.size(0), *level.shape[2:]).transpose(0, 1)


@pytest.mark.parametrize('rotated', [False, True])
def test_standardized_terms_match_a_derivation_from_the_equation(rotated):
    # L = w1 sum_i w_i mean (R_S(i) - R_T(i))^2 + w2 MSE(cos R_S, cos R_T)
    # over the standardised levels (module docstring), re-derived here
    # without the loss's code path: t0 and t5 are selected with weights
    # w = (1.9, MISS_LOSS - 0.1) / their sum (test_selection_counts_...);
    # their RoIs lie in regions of level 0 that are constant per channel
    # (_block_feats), so each RoI feature is the standardised constant
    # u_i (C,) of its region, and the pooled vectors are the u_i too.
    # feat = sum_i w_i mean_c (u_S,i - u_T,i)^2; with two instances the
    # cosine matrices are [[1, c], [c, 1]]: relation = 2 (c_S - c_T)^2 / 4.
    teacher, student, gt_boxes, gt_labels = _crafted(rotated)
    # The teacher's two regions alike (cosine 1), the student's opposite
    # (a cosine near -1): a relation term far from 0.
    a_s, a_t = 2 * torch.randn(
        2, 4, generator=torch.Generator().manual_seed(5))
    s_feats = _block_feats(0, a_s, -a_s)
    t_feats = _block_feats(1, a_t, a_t)
    args = (teacher, student, gt_boxes, gt_labels, INPUT, 0.)
    out = InstanceSelectionDistillLoss(use_status=False)(s_feats, t_feats,
                                                         *args)

    # (2, C): a cell of image 0's region, one of image 1's.
    u_s, u_t = (
        torch.stack([level[0, :, 0, 0], level[1, :, 5, 0]])
        for level in map(_standardised, (s_feats[0], t_feats[0])))
    weights = torch.tensor([1.9, MISS_LOSS - 0.1], dtype=torch.float64)
    weights = weights / weights.sum()
    feat = (weights * (u_s - u_t).pow(2).mean(dim=1)).sum()
    cos_s = torch.dot(u_s[0], u_s[1]) / (u_s[0].norm() * u_s[1].norm())
    cos_t = torch.dot(u_t[0], u_t[1]) / (u_t[0].norm() * u_t[1].norm())
    relation = 2 * (cos_s - cos_t)**2 / 4
    assert feat > 0.1 and relation > 1  # not a degenerate case
    torch.testing.assert_close(out['feat'].double(), feat, rtol=1e-4, atol=0)
    torch.testing.assert_close(
        out['relation'].double(), relation, rtol=1e-4, atol=0)
    # Standardised: scaling or shifting either network's levels changes
    # nothing.
    scaled = InstanceSelectionDistillLoss(use_status=False)(
        [50 * f - 2 for f in s_feats], [0.02 * f + 1 for f in t_feats], *args)
    for key in ('feat', 'relation'):
        torch.testing.assert_close(scaled[key], out[key], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize('rotated', [False, True])
def test_gradients_reach_student_never_teacher(rotated):
    teacher, student, gt_boxes, gt_labels = _crafted(rotated)
    student_feats = _feats(seed=0)
    teacher_feats = _feats(seed=1)  # requires_grad, to see any leak
    out = InstanceSelectionDistillLoss(**UNIT)(student_feats, teacher_feats,
                                               teacher, student, gt_boxes,
                                               gt_labels, INPUT, 0.)
    assert out['feat'] > 0 and out['relation'] > 0
    assert all(torch.isfinite(v) for v in out.values())
    (out['feat'] + out['relation']).backward()
    # Selected boxes are t0 in image 0 and t5 in image 1, both level 0.
    grad = student_feats[0].grad
    assert grad[0].abs().sum() > 0 and grad[1].abs().sum() > 0
    assert all(f.grad is None for f in teacher_feats)


@pytest.mark.parametrize('rotated', [False, True])
def test_nothing_selected_is_zero_with_a_gradient_path(rotated):
    # No GT in either image: every candidate is a false positive.
    teacher, student, _, _ = _crafted(rotated)
    dim = 5 if rotated else 4
    empty_boxes = [torch.zeros(0, dim), torch.zeros(0, dim)]
    empty_labels = [torch.zeros(0, dtype=torch.long)] * 2
    student_feats = _feats()
    out = InstanceSelectionDistillLoss(**UNIT)(student_feats,
                                               _feats(seed=1, grad=False),
                                               teacher, student, empty_boxes,
                                               empty_labels, INPUT, 0.5)
    assert out['feat'].item() == 0 and out['relation'].item() == 0
    (out['feat'] + out['relation']).backward()
    for feat in student_feats:
        assert feat.grad is not None
        assert torch.equal(feat.grad, torch.zeros_like(feat))
    assert _logged(out) == [6, 0, 0, 6]


def test_teacher_worse_everywhere_selects_nothing():
    # The student matches every GT exactly with p = 1 (l_S = 0): no teacher
    # instance can be better.
    teacher, _, gt_boxes, gt_labels = _crafted(False)
    student = [
        InstanceData(bboxes=b, scores=torch.ones(len(b)), labels=lab)
        for b, lab in zip(gt_boxes, gt_labels)
    ]
    out = InstanceSelectionDistillLoss(**UNIT)(_feats(), _feats(seed=1),
                                               teacher, student, gt_boxes,
                                               gt_labels, INPUT, 0.)
    assert out['feat'].item() == 0 and out['relation'].item() == 0
    assert _logged(out) == [6, 0, 1, 2]


def test_single_selected_has_no_relation_term():
    # Only image 0 (t0 selected): one instance, weight 1, no pairs.
    teacher, student, gt_boxes, gt_labels = _crafted(False)
    out = InstanceSelectionDistillLoss(**UNIT)(
        [f[:1] for f in _feats(value=0.)],
        [f[:1] for f in _feats(value=2., grad=False)], teacher[:1],
        student[:1], gt_boxes[:1], gt_labels[:1], INPUT, 0.)
    # (0 - 2)^2 = 4 in every pooled cell, weight 1.
    torch.testing.assert_close(out['feat'], torch.tensor(4.))
    assert out['relation'].item() == 0


def test_score_thr_and_max_per_img_filter_candidates():
    teacher, student, gt_boxes, gt_labels = _crafted(False)
    # score_thr 0.1 lets t6 (p = 0.2, on g2 with IoU 1, l = 1.609) in:
    # 7 candidates; the matched l_T 0.1, 0.1, 1.1, 0.1, 1.609 have mean
    # 0.602 and std 0.635, limit 1.237: now t6 is the outlier and t4
    # (1.1 < MISS_LOSS) is kept, so 3 are selected. The outlier test is
    # relative to the batch.
    loss = InstanceSelectionDistillLoss(score_thr=0.1, **UNIT)
    cands, sel = loss.select(teacher, student, gt_boxes, gt_labels, 0.)
    assert [len(c) for c in cands] == [4, 3]
    assert sel.selected.tolist() == [
        True, False, False, False, True, True, False
    ]
    assert sel.outlier.tolist() == [False] * 6 + [True]
    # max_per_img 1 keeps the best-scored candidate of each image: t2
    # (0.95) or t3 in image 0 (a tie), a false positive either
    # way; t5 (e^-0.1 = 0.905) in image 1.
    loss = InstanceSelectionDistillLoss(max_per_img=1, **UNIT)
    cands, sel = loss.select(teacher, student, gt_boxes, gt_labels, 0.)
    assert [len(c) for c in cands] == [1, 1]
    assert cands[0].scores.item() == pytest.approx(0.95)
    assert cands[1].scores.item() == pytest.approx(math.exp(-0.1))
    assert sel.false_positive.tolist() == [True, False]
    assert sel.selected.tolist() == [False, True]
    # score_thr above every score: no candidate at all.
    loss = InstanceSelectionDistillLoss(score_thr=0.99, **UNIT)
    out = loss(_feats(), _feats(seed=1), teacher, student, gt_boxes, gt_labels,
               INPUT, 0.)
    assert out['feat'].item() == 0
    assert _logged(out) == [0, 0, 0, 0]


@pytest.mark.parametrize('rotated', [False, True])
def test_status_shifts_weights_to_hard_boxes(rotated):
    # One image: a 48 x 48 square (hardness h = 1: aspect 1, not small)
    # and a 48 x 8 bar (h = 1 + 0.5 log 6 + 0.5 log(32 / sqrt(384))
    # = 2.1411). The teacher finds both with l_T = 0.5, the student
    # neither (l_S = MISS_LOSS): equal margins m.  psi = 0: omega = 1, so
    # weights 1/2, 1/2; psi = 1: omega = h, weights 1 / (1 + h) and
    # h / (1 + h); psi = 0.5: omega = 1 + (h - 1) / 2.
    gt = [[8, 8, 56, 56], [8, 56, 56, 64]]
    teacher = [_instances(gt, [math.exp(-0.5)] * 2, [0, 0], rotated)]
    student = [_instances([], [], [], rotated)]
    gt_boxes = [teacher[0].bboxes.clone()]
    gt_labels = [torch.tensor([0, 0])]
    hard = 1 + 0.5 * math.log(6) + 0.5 * math.log(32 / math.sqrt(384))
    loss = InstanceSelectionDistillLoss(use_status=True)
    for psi, omega in ((0., 1.), (1., hard), (0.5, 1 + (hard - 1) / 2)):
        _, sel = loss.select(teacher, student, gt_boxes, gt_labels, psi)
        torch.testing.assert_close(sel.weights,
                                   torch.tensor([1., omega]) / (1 + omega))
    # use_status=False ignores psi.
    _, sel = InstanceSelectionDistillLoss(use_status=False).select(
        teacher, student, gt_boxes, gt_labels, 1.)
    torch.testing.assert_close(sel.weights, torch.tensor([0.5, 0.5]))
