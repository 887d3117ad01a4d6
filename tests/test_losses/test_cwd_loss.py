import math

import pytest
import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.losses.cwd_loss import CWDLoss, channel_kl_divergence
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch, get_model_cfg


def test_known_value_tau_one():
    # N = C = H = 1, W = 2.  T = [0, ln 3] -> p_t = [1/4, 3/4];
    # S = [0, 0] -> p_s = [1/2, 1/2].
    # KL = 1/4 ln(1/2) + 3/4 ln(3/2) = 3/4 ln 3 - ln 2; loss_weight 10.
    teacher = torch.tensor([[[[0., math.log(3.)]]]])
    student = torch.zeros(1, 1, 1, 2)
    loss = CWDLoss()(student, teacher)
    torch.testing.assert_close(
        loss, torch.tensor(10 * (0.75 * math.log(3.) - math.log(2.))))


def test_known_value_tau_two():
    # T / 2 = [0, ln sqrt(3)] -> p_t = [1, sqrt(3)] / (1 + sqrt(3));
    # p_s = [1/2, 1/2]: KL = sum p_t ln(2 p_t), times tau^2 = 4.
    teacher = torch.tensor([[[[0., math.log(3.)]]]])
    student = torch.zeros(1, 1, 1, 2)
    p_t = torch.tensor([1., math.sqrt(3.)]) / (1 + math.sqrt(3.))
    expected = 4 * (p_t * torch.log(2 * p_t)).sum()
    loss = CWDLoss(tau=2., loss_weight=1.)(student, teacher)
    torch.testing.assert_close(loss, expected)


def test_mean_over_images_and_channels_and_sum_over_levels():
    # Channel maps repeated over N = 2, C = 3 leave the mean KL unchanged;
    # a per-channel shift changes no softmax (KL 0).
    teacher = torch.tensor([[[[0., math.log(3.)]]]])
    student = torch.zeros(1, 1, 1, 2)
    loss = CWDLoss(loss_weight=1.)
    single = loss(student, teacher)
    repeated = loss(student.expand(2, 3, 1, 2), teacher.expand(2, 3, 1, 2))
    torch.testing.assert_close(repeated, single)
    shift = torch.arange(3.).reshape(1, 3, 1, 1)
    torch.manual_seed(0)
    feat = torch.randn(2, 3, 4, 4)
    assert loss(feat + shift, feat).abs() < 1e-6
    levels = loss((student, feat), (teacher, feat + 1))
    torch.testing.assert_close(levels, single, atol=1e-6, rtol=0)


def test_matches_mmrazor_channel_wise_divergence(mmrazor_losses):
    # mmrazor's ChannelWiseDivergence on the same inputs: value and the
    # student's gradient; its loss_weight applies the same 1 / (C N).
    torch.manual_seed(0)
    teacher = torch.randn(2, 4, 3, 5)
    for tau, weight in ((1., 10.), (3., 1.)):
        ours = torch.randn(2, 4, 3, 5, requires_grad=True)
        theirs = ours.detach().clone().requires_grad_(True)
        loss = CWDLoss(tau=tau, loss_weight=weight)(ours, teacher)
        expected = mmrazor_losses.ChannelWiseDivergence(
            tau=tau, loss_weight=weight)(theirs, teacher)
        torch.testing.assert_close(loss, expected)
        loss.backward()
        expected.backward()
        torch.testing.assert_close(ours.grad, theirs.grad)
    assert channel_kl_divergence(ours, teacher, tau).shape == (2, 4)


def test_backward_reaches_student_not_teacher():
    student = torch.randn(2, 4, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 4, 4, 4, requires_grad=True)
    loss = CWDLoss()((student, ), (teacher, ))
    loss.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_registered_and_checks_shapes():
    loss = MODELS.build(dict(type='dkd_mm.CWDLoss'))
    assert isinstance(loss, CWDLoss)
    assert loss.tau == 1. and loss.loss_weight == 10.
    with pytest.raises(ValueError, match='adapt first'):
        loss(torch.randn(1, 4, 4, 4), torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='adapt first'):
        loss(torch.randn(1, 8, 2, 2), torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='levels'):
        loss((torch.randn(1, 8, 4, 4), ), (torch.randn(1, 8, 4, 4), ) * 2)


def test_baseline_config_builds_and_runs_one_step():
    cfg = get_model_cfg(
        'rotated_retinanet/cwd_rotated-retinanet_r50-r18_synthetic.py')
    cfg.teacher_ckpt = None
    model = MODELS.build(cfg)
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    assert {'loss_cls', 'loss_bbox', 'loss_cwd'} <= set(losses)
    # The term is CWD, tau 1 and weight 10, of the adapted student neck and
    # the teacher neck, extracted here apart from the distiller's recorder.
    with torch.no_grad():
        teacher = model.teacher.extract_feat(inputs)
        student = tuple(
            adapter(feat) for adapter, feat in zip(
                model.adapters, model.student.extract_feat(inputs)))
    expected = CWDLoss(tau=1., loss_weight=10.)(student, teacher)
    assert expected > 0
    torch.testing.assert_close(
        losses['loss_cwd'].detach(), expected, rtol=1e-5, atol=0)
