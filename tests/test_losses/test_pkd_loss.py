import math

import pytest
import torch
import torch.nn.functional as F

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.losses.pkd_loss import PKDLoss, pearson_normalize
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch, get_model_cfg


def test_known_value():
    # N = C = H = 1, W = 2.  S = [0, 2]: mean 1, unbiased std sqrt(2) ->
    # [-1, 1] / sqrt(2); T = [2, 0] -> [1, -1] / sqrt(2).
    # (s - t)^2 = [2, 2], mean 2, / 2 = 1; loss_weight 3 -> 3.
    student = torch.tensor([[[[0., 2.]]]])
    teacher = torch.tensor([[[[2., 0.]]]])
    loss = PKDLoss(loss_weight=3., eps=0.)(student, teacher)
    torch.testing.assert_close(loss, torch.tensor(3.))


def test_statistics_over_the_batch_per_channel():
    # N = 2, C = 2, H = W = 1.  Channel 0 holds 0 (image 0) and 2 (image 1):
    # mean 1, std sqrt(2) over the batch -> -1/sqrt(2), 1/sqrt(2).  Per
    # image statistics would be undefined (one value); channel 1 is
    # constant -> 0 (finite, thanks to eps).
    feat = torch.tensor([[0., 5.], [2., 5.]]).reshape(2, 2, 1, 1)
    expected = torch.tensor([[-1., 0.], [1., 0.]]) / math.sqrt(2)
    torch.testing.assert_close(
        pearson_normalize(feat), expected.reshape(2, 2, 1, 1))


def test_equals_one_minus_pearson_r():
    # Per channel, with M = N H W values and unbiased std,
    # sum (s - t)^2 = 2 (M - 1) (1 - r), so mean / 2 = (1 - 1/M) (1 - r).
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    num_values = 2 * 4 * 5
    pearson = torch.stack([
        torch.corrcoef(
            torch.stack([student[:, c].flatten(),
                         teacher[:, c].flatten()]))[0, 1] for c in range(3)
    ])
    expected = ((1 - 1 / num_values) * (1 - pearson)).mean()
    loss = PKDLoss(loss_weight=1., eps=0.)(student, teacher)
    torch.testing.assert_close(loss, expected)


def test_invariant_to_scale_and_shift_and_sums_levels():
    torch.manual_seed(0)
    student = (torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4))
    teacher = (torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4))
    loss = PKDLoss(loss_weight=2.)
    total = loss(student, teacher)
    per_level = [loss(s, t) for s, t in zip(student, teacher)]
    torch.testing.assert_close(total, sum(per_level))
    scaled = tuple(10 * t + 3 for t in teacher)
    torch.testing.assert_close(loss(student, scaled), total)
    assert loss(teacher, teacher) < 1e-6


def test_resize_student_or_teacher():
    torch.manual_seed(0)
    student, teacher = torch.randn(1, 4, 4, 4), torch.randn(1, 4, 8, 8)
    up = F.interpolate(student, (8, 8), mode='bilinear')
    down = F.interpolate(teacher, (4, 4), mode='bilinear')
    torch.testing.assert_close(PKDLoss()(student, teacher),
                               PKDLoss()(up, teacher))
    torch.testing.assert_close(
        PKDLoss(resize_stu=False)(student, teacher),
        PKDLoss(resize_stu=False)(student, down))


def test_matches_mmrazor_pkd_loss(mmrazor_losses):
    # mmrazor's PKDLoss on the same inputs (two levels, one resized):
    # value and the student's gradient, with either side resized.
    torch.manual_seed(0)
    teacher = (torch.randn(2, 4, 8, 8), torch.randn(2, 4, 4, 4))
    for resize_stu in (True, False):
        ours = (torch.randn(2, 4, 8, 8, requires_grad=True),
                torch.randn(2, 4, 2, 2, requires_grad=True))
        theirs = tuple(s.detach().clone().requires_grad_(True) for s in ours)
        loss = PKDLoss(loss_weight=6., resize_stu=resize_stu)(ours, teacher)
        expected = mmrazor_losses.PKDLoss(
            loss_weight=6., resize_stu=resize_stu)(theirs, teacher)
        torch.testing.assert_close(loss, expected)
        loss.backward()
        expected.backward()
        for grad, expected_grad in zip(ours, theirs):
            torch.testing.assert_close(grad.grad, expected_grad.grad)


def test_backward_reaches_student_not_teacher():
    student = torch.randn(2, 4, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 4, 4, 4, requires_grad=True)
    constant = torch.ones(2, 4, 4, 4, requires_grad=True)
    loss = PKDLoss()((student, constant), (teacher, teacher))
    loss.backward()
    # A constant level standardises to 0: its term is mean(t^2) / 2 with
    # sum(t^2) = M - 1 per channel (unbiased std, M = 2 * 4 * 4 values):
    # (1 - 1 / 32) / 2, times loss_weight 10.
    torch.testing.assert_close(
        loss.detach(),
        PKDLoss()(student.detach(), teacher.detach()) + 10 * (31 / 32) / 2)
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert torch.isfinite(constant.grad).all()
    assert teacher.grad is None


def test_registered_and_checks_shapes():
    loss = MODELS.build(dict(type='dkd_mm.PKDLoss'))
    assert isinstance(loss, PKDLoss) and loss.loss_weight == 10.
    assert loss.resize_stu
    with pytest.raises(ValueError, match='differ'):
        loss(torch.randn(1, 4, 4, 4), torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='differ'):
        loss(torch.randn(2, 8, 4, 4), torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='levels'):
        loss((torch.randn(1, 8, 4, 4), ), (torch.randn(1, 8, 4, 4), ) * 2)


def test_baseline_config_builds_and_runs_one_step():
    cfg = get_model_cfg(
        'rotated_retinanet/pkd_rotated-retinanet_r50-r18_synthetic.py')
    cfg.teacher_ckpt = None
    model = MODELS.build(cfg)
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    assert {'loss_cls', 'loss_bbox', 'loss_pkd'} <= set(losses)
    # The term is PKD, weight 10, of the adapted student neck and the
    # teacher neck, extracted here apart from the distiller's recorder.
    with torch.no_grad():
        teacher = model.teacher.extract_feat(inputs)
        student = tuple(
            adapter(feat) for adapter, feat in zip(
                model.adapters, model.student.extract_feat(inputs)))
    expected = PKDLoss(loss_weight=10.)(student, teacher)
    assert expected > 0
    torch.testing.assert_close(
        losses['loss_pkd'].detach(), expected, rtol=1e-5, atol=0)
