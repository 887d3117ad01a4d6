"""Property tests of the losses that take boxes (GD, FGD, ISD, TSA).

Over random ground truth and predictions (zero-size, tiny, huge, very
elongated, outside the image, images without boxes), every term stays
finite and is connected to the student: each term gives every student
level (every predicted box, for TSA) a finite gradient, even where it is 0
(no box, nothing selected), and never the teacher one.  The box strategies
are those of tests/test_functional/test_properties.py.
"""
import torch
from hypothesis import given
from hypothesis import strategies as st
from mmengine.structures import InstanceData

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.losses import (DynamicGlobalDistillLoss, FGDLoss,
                           InstanceSelectionDistillLoss, TSALoss)
from ..test_functional.test_properties import one_thread  # noqa: F401
from ..test_functional.test_properties import (FEAT_SIZES, INPUT, PROPERTY,
                                               box_sets)

CHANNELS = 4


def image_boxes(max_boxes: int = 4):
    """Two images' boxes of one kind (either may be empty)."""
    return st.booleans().flatmap(lambda rotated: st.tuples(
        box_sets(rotated, max_boxes), box_sets(rotated, max_boxes)))


def features(seed: int):
    """Student and teacher levels, (2, C, H_l, W_l), both requiring grad:
    the teacher's, to see that no term lets a gradient reach it."""
    gen = torch.Generator().manual_seed(seed)
    student = tuple(
        torch.randn(2, CHANNELS, *s, generator=gen).requires_grad_(True)
        for s in FEAT_SIZES)
    teacher = tuple(
        torch.randn(2, CHANNELS, *s, generator=gen).requires_grad_(True)
        for s in FEAT_SIZES)
    return student, teacher


def assert_finite_with_finite_grads(terms: dict,
                                    inputs,
                                    detached=(),
                                    pulls=False) -> None:
    """Every term is finite and, on its own, gives every one of ``inputs``
    a finite gradient (a zero one where the term is 0, e.g. ``fg`` without
    any box: still a gradient, through ``0 * x.sum()``); none reaches
    ``detached`` (the teacher).  ``pulls``: the sum of the terms has a
    non-zero gradient on every input (terms that depend on every cell,
    whatever the boxes: GD's relation, FGD's attention)."""
    for key, value in terms.items():
        assert torch.isfinite(value).all(), (key, value)
        assert value.requires_grad, f'{key}: no gradient path at all'
        grads = torch.autograd.grad(
            value, [*inputs, *detached], retain_graph=True, allow_unused=True)
        for i, grad in enumerate(grads[:len(inputs)]):
            assert grad is not None, f'{key}: no gradient for input {i}'
            assert torch.isfinite(grad).all(), (key, i)
        assert all(g is None for g in grads[len(inputs):]), \
            f'{key}: a gradient reached the teacher'
    if pulls:
        total = sum(v.sum() for v in terms.values())
        grads = torch.autograd.grad(total, inputs)
        assert all(g.abs().sum() > 0 for g in grads)


@PROPERTY
@given(gt_bboxes=image_boxes())
def test_gd_finite(gt_bboxes):
    student, teacher = features(0)
    for standardize in (True, False):
        # pool_size 4: boxes do not enter the relation term, whose default
        # 16 x 16 pooling would dominate the test's time.
        loss = DynamicGlobalDistillLoss(standardize=standardize, pool_size=4)
        terms = loss(student, teacher, list(gt_bboxes), INPUT)
        assert_finite_with_finite_grads(terms, student, teacher, pulls=True)


@PROPERTY
@given(gt_bboxes=image_boxes())
def test_fgd_finite(gt_bboxes):
    student, teacher = features(1)
    loss = FGDLoss(in_channels=CHANNELS, num_levels=len(FEAT_SIZES))
    terms = loss(student, teacher, list(gt_bboxes), INPUT)
    assert_finite_with_finite_grads(terms, student, teacher, pulls=True)


@PROPERTY
@given(
    pair=st.booleans().flatmap(
        lambda rotated: st.tuples(box_sets(rotated, 8), box_sets(rotated, 8))),
    psi=st.floats(0., 1.))
def test_tsa_finite(pair, psi):
    pred, target = pair
    num = min(len(pred), len(target))
    pred = pred[:num].clone().requires_grad_(True)
    target = target[:num]
    stds = [0.1, 0.1, 0.2, 0.2, 0.1][:pred.size(1)]
    for delta_stds in (None, stds):
        loss = TSALoss(
            dict(type='mmdet.L1Loss'), psi=psi, delta_stds=delta_stds)
        value = loss(pred, target)
        assert torch.isfinite(value), (delta_stds, value)
        # Every box, none included (an empty gradient), gets a gradient.
        (grad, ) = torch.autograd.grad(value, pred)
        assert grad.shape == pred.shape
        assert torch.isfinite(grad).all(), (delta_stds, grad)


@st.composite
def isd_inputs(draw):
    rotated = draw(st.booleans())
    images = []
    for _ in range(2):
        gt = draw(box_sets(rotated, 4))
        preds = []
        for _ in range(2):  # teacher, student
            boxes = draw(box_sets(rotated, 6))
            # half of them near-copies of GT boxes, so that some match
            if len(gt) and len(boxes):
                boxes[::2] = gt[torch.arange(len(boxes[::2])) % len(gt)]
            scores = draw(
                st.lists(
                    st.floats(0., 1.),
                    min_size=len(boxes),
                    max_size=len(boxes)))
            preds.append(
                InstanceData(
                    bboxes=boxes,
                    scores=torch.tensor(scores).reshape(-1),
                    labels=torch.zeros(len(boxes), dtype=torch.long)))
        images.append((gt, preds))
    return images


@PROPERTY
@given(images=isd_inputs(), psi=st.floats(0., 1.))
def test_isd_finite(images, psi):
    student, teacher = features(2)
    gt_bboxes = [gt for gt, _ in images]
    gt_labels = [torch.zeros(len(gt), dtype=torch.long) for gt in gt_bboxes]
    teacher_preds = [preds[0] for _, preds in images]
    student_preds = [preds[1] for _, preds in images]
    loss = InstanceSelectionDistillLoss(score_thr=0.)
    terms = loss(
        student,
        teacher,
        teacher_preds,
        student_preds,
        gt_bboxes,
        gt_labels,
        INPUT,
        train_status=psi)
    # Nothing selected (no GT, or the teacher never better) is legitimate:
    # the terms are then 0 with a zero gradient, so no ``pulls``.
    terms = {k: v for k, v in terms.items() if not k.startswith('log_')}
    assert set(terms) == {'feat', 'relation'}
    assert_finite_with_finite_grads(terms, student, teacher)
