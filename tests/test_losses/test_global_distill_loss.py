import math
from types import SimpleNamespace

import pytest
import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import (channel_attention, foreground_mask,
                               relation_loss, spatial_attention)
from dkd_mm.losses.global_distill_loss import DynamicGlobalDistillLoss
from dkd_mm.registry import MODELS

# The raw-feature form (standardize=False): hand-worked values below.
UNIT = dict(alpha=1., beta=1., gamma=1., bg_normalize=False, standardize=False)


def _known_pair():
    # One level, N = C = 1, H = W = 2, 16 x 16 input -> stride 8.
    # T = 1 everywhere, S = [[0, 0], [0, -1]]: (T - S)^2 = [[1, 1], [1, 4]].
    teacher = torch.ones(1, 1, 2, 2)
    student = torch.tensor([[[[0., 0.], [0., -1.]]]], requires_grad=True)
    return student, teacher


def test_known_values():
    # Box (0, 0, 8, 8) holds cell (0, 0) only, area 1 cell -> M_fg = 1.
    # T constant: A_s = 1 per cell, A_c = C * 1 = 1.
    # fg = 1 * 1 * 1 * 1 = 1.
    # bg: D = [[1, 1], [1, 4]], background cells D = 1, 1, 4 with tau 1:
    #   weights e / Z, e / Z, e^4 / Z with Z = 2e + e^4;
    #   bg = (2e * 1 + e^4 * 4) / Z.
    # global: T cells all +1 -> G_t = ones(4, 4); S cells 0, 0, 0, -1 ->
    #   normalised 0, 0, 0, -1 -> G_s zero except G_s[3, 3] = 1;
    #   15 of 16 entries differ by 1 -> 15 / 16.
    # loss_weight 2 doubles everything.
    student, teacher = _known_pair()
    loss = DynamicGlobalDistillLoss(**UNIT, loss_weight=2.)
    out = loss((student, ), (teacher, ), [torch.tensor([[0., 0., 8., 8.]])],
               (16, 16))
    e, e4 = math.e, math.exp(4)
    torch.testing.assert_close(out['fg'], torch.tensor(2.))
    torch.testing.assert_close(
        out['bg'], torch.tensor(2 * (2 * e + 4 * e4) / (2 * e + e4)))
    torch.testing.assert_close(out['relation'], torch.tensor(2 * 15 / 16))


def test_weights_scale_terms_and_tensor_input():
    student, teacher = _known_pair()
    boxes = [torch.tensor([[4., 4., 8., 8., 0.3]])]
    unit = DynamicGlobalDistillLoss(**UNIT)(student, teacher, boxes, (16, 16))
    scaled = DynamicGlobalDistillLoss(
        alpha=2., beta=3., gamma=5., bg_normalize=False,
        standardize=False)((student, ), (teacher, ), boxes, (16, 16))
    for key, factor in (('fg', 2.), ('bg', 3.), ('relation', 5.)):
        torch.testing.assert_close(scaled[key], factor * unit[key])


def _reference(student_feats, teacher_feats, gt_bboxes, input_shape, tau):
    """Direct per-level, per-image evaluation of the documented formula,
    with a uniform background (bg_tau -> infinity) and gamma = 1."""
    fg = bg = glob = 0.
    for student, teacher in zip(student_feats, teacher_feats):
        num, _, height, width = teacher.shape
        strides = (input_shape[0] / height, input_shape[1] / width)
        for i in range(num):
            t, s = teacher[i:i + 1], student[i:i + 1]
            energy = (spatial_attention(t, tau) * channel_attention(t, tau) *
                      (t - s)**2)[0]
            fg_mask = foreground_mask(gt_bboxes[i], (height, width), strides)
            bg_cells = fg_mask == 0
            fg += (fg_mask * energy).sum() / num
            if bg_cells.any():
                bg += (energy * bg_cells / bg_cells.sum()).sum() / num
        glob += relation_loss(student, teacher)
    return fg, bg, glob


def test_matches_reference_on_two_levels_two_images():
    torch.manual_seed(0)
    shapes = [(2, 4, 8, 12), (2, 4, 4, 6)]  # input 64 x 96: strides 8, 16
    teacher = tuple(torch.randn(shape) for shape in shapes)
    student = tuple(torch.randn(shape) for shape in shapes)
    boxes = [
        torch.tensor([[10., 5., 40., 30.], [30., 20., 90., 60.]]),
        torch.zeros(0, 4)
    ]
    loss = DynamicGlobalDistillLoss(
        alpha=1.,
        beta=1.,
        gamma=1.,
        bg_tau=1e9,
        bg_normalize=False,
        standardize=False)
    out = loss(student, teacher, boxes, (64, 96))
    fg, bg, glob = _reference(student, teacher, boxes, (64, 96), 0.5)
    torch.testing.assert_close(out['fg'], fg)
    torch.testing.assert_close(out['bg'], bg)
    torch.testing.assert_close(out['relation'], glob)


def test_standardized_known_values():
    # One level, N = 1, C = 1, H = 1, W = 4, 8 x 32 input -> stride 8.
    # T = [0, 0, 0, 4]: mean 1, unbiased std 2 -> T^ = [-.5, -.5, -.5, 1.5].
    # S = [1, 3, 1, 3]: mean 2, std sqrt(4/3) -> S^ = [-a, a, -a, a] with
    # a = sqrt(3) / 2.  (T^ - S^)^2 per cell: (a - .5)^2, (a + .5)^2,
    # (a - .5)^2, (1.5 - a)^2.
    # A_c = 1 (one channel); A_s = 4 softmax(|T^| / 0.5) = 4 [1, 1, 1, e^2]
    # / (3 + e^2).  The box (0, 0, 8, 8) holds cell 0 only (M_fg = 1):
    # fg = A_s[0] (a - .5)^2 / 1.  Background cells 1..3 with a uniform
    # softmax (bg_tau -> infinity): bg = mean of A_s E over cells 1..3.
    a = math.sqrt(3) / 2
    teacher = torch.tensor([0., 0., 0., 4.]).reshape(1, 1, 1, 4)
    student = torch.tensor([1., 3., 1., 3.]).reshape(1, 1, 1, 4)
    attn = 4 * torch.tensor([1., 1., 1., math.exp(2)]) / (3 + math.exp(2))
    error = attn * torch.tensor([(a - .5)**2, (a + .5)**2, (a - .5)**2,
                                 (1.5 - a)**2])
    out = DynamicGlobalDistillLoss(bg_tau=1e9)(
        student, teacher, [torch.tensor([[0., 0., 8., 8.]])], (8, 32))
    torch.testing.assert_close(out['fg'], error[0] * 1.0, rtol=1e-5, atol=0)
    torch.testing.assert_close(
        out['bg'], error[1:].mean() * 0.5, rtol=1e-5, atol=0)


def _standardised(feat):
    """Per channel over (N, H, W), unbiased std, in float64."""
    feat = feat.double()
    mean = feat.mean(dim=(0, 2, 3), keepdim=True)
    count = feat.numel() // feat.size(1)
    var = (feat - mean).pow(2).sum(dim=(0, 2, 3), keepdim=True) / (count - 1)
    return (feat - mean) / var.sqrt()


def _standardized_reference(student_feats,
                            teacher_feats,
                            gt_bboxes,
                            input_shape,
                            tau=0.5,
                            bg_tau=1.0):
    """The class docstring's three terms (unit weights), level by level and
    image by image: the standardisation and FGD's attentions written out,
    a plain softmax over each image's background cells."""
    fg_sum = fg_weight = bg = glob = 0.
    for student, teacher in zip(student_feats, teacher_feats):
        s, t = _standardised(student), _standardised(teacher)
        num, channels, height, width = t.shape
        strides = (input_shape[0] / height, input_shape[1] / width)
        for i in range(num):
            value = t[i].abs()
            attn_s = height * width * torch.softmax(
                value.mean(0).flatten() / tau, 0).reshape(height, width)
            attn_c = channels * torch.softmax(value.mean((1, 2)) / tau, 0)
            sq_error = (t[i] - s[i]).pow(2)
            error = attn_s * (attn_c[:, None, None] * sq_error).mean(0)
            fg_mask = foreground_mask(gt_bboxes[i], (height, width),
                                      strides).double()
            fg_sum += (fg_mask * error).sum()
            fg_weight += fg_mask.sum()
            bg_cells = fg_mask == 0
            if bg_cells.any():
                disc = sq_error.mean(0)[bg_cells]
                weight = torch.softmax(disc / disc.mean() / bg_tau, 0)
                bg += (weight * error[bg_cells]).sum() / num
        glob += relation_loss(s, t)
    levels = len(student_feats)
    return fg_sum / fg_weight, bg / levels, glob / levels


def test_standardized_terms_do_not_depend_on_feature_scale():
    # The default form is a weighted mean of errors between standardised
    # maps (the reference above): scaling either network's features by any
    # positive factor, or adding an offset per channel, changes nothing; more
    # objects or levels do not inflate it.
    torch.manual_seed(0)
    shapes = [(2, 8, 8, 8), (2, 8, 4, 4)]
    teacher = tuple(torch.randn(shape) for shape in shapes)
    student = tuple(torch.randn(shape) for shape in shapes)
    boxes = [torch.tensor([[4., 4., 30., 20., 0.3]]), torch.zeros(0, 5)]
    loss = DynamicGlobalDistillLoss()  # alpha 1, beta 0.5, gamma 1
    out = loss(student, teacher, boxes, (64, 64))
    fg, bg, glob = _standardized_reference(student, teacher, boxes, (64, 64))
    assert fg > 0 and bg > 0 and glob > 0
    for key, value in (('fg', fg), ('bg', 0.5 * bg), ('relation', glob)):
        torch.testing.assert_close(out[key].double(), value, rtol=1e-5, atol=0)
    channel_offset = torch.arange(8.).reshape(1, 8, 1, 1)
    for s_scale, t_scale in ((100., 0.01), (1e-2, 1.), (1., 37.), (5., 5.)):
        scaled = loss(
            tuple(s_scale * s + 3 + channel_offset for s in student),
            tuple(t_scale * t - 1 for t in teacher), boxes, (64, 64))
        for key in out:
            # (up to the eps of 1e-6 added to a std of 0.01)
            torch.testing.assert_close(
                scaled[key], out[key], rtol=1e-3, atol=1e-6)
    # Two copies of the image and its boxes: the same value.
    doubled = loss(
        tuple(torch.cat([s, s]) for s in student),
        tuple(torch.cat([t, t]) for t in teacher), boxes * 2, (64, 64))
    for key in out:
        # (only the unbiased std's n - 1 moves: 2% at 32 cells a channel)
        torch.testing.assert_close(
            doubled[key], out[key], rtol=3e-2, atol=1e-4)
    # Every level twice: exactly the same weighted means.
    twice = loss(student * 2, teacher * 2, boxes, (64, 64))
    for key in out:
        torch.testing.assert_close(twice[key], out[key])


@pytest.mark.parametrize('dim', [4, 5])
def test_empty_gt_gives_zero_fg_and_finite_rest(dim):
    torch.manual_seed(0)
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 8, 4, 4)
    out = DynamicGlobalDistillLoss()(student, teacher,
                                     [torch.zeros(0, dim)] * 2, (32, 32))
    assert out['fg'].item() == 0.
    assert out['bg'] > 0 and torch.isfinite(out['relation'])
    sum(out.values()).backward()
    assert torch.isfinite(student.grad).all()


def test_all_foreground_and_zero_area_boxes_are_finite():
    student = torch.randn(1, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(1, 8, 4, 4)
    loss = DynamicGlobalDistillLoss()
    # One box over the whole 32 x 32 image: no background -> bg = 0.
    out = loss(student, teacher, [torch.tensor([[0., 0., 32., 32.]])],
               (32, 32))
    assert out['bg'].item() == 0. and out['fg'] > 0
    # Zero-area boxes contain no cell: fg = 0, nothing NaN.
    degenerate = torch.tensor([[12., 12., 0., 0., 0.], [4., 4., 0., 5., 1.]])
    out = loss(student, teacher, [degenerate], (32, 32))
    assert out['fg'].item() == 0.
    total = sum(out.values())
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(student.grad).all()


def test_backward_reaches_student_not_teacher():
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 8, 4, 4, requires_grad=True)
    boxes = [
        SimpleNamespace(tensor=torch.tensor([[8., 8., 20., 12., 0.5]])),
        torch.tensor([[0., 0., 16., 16., 0.]])
    ]  # an object with ``.tensor``, as mmdet's BaseBoxes
    out = DynamicGlobalDistillLoss()(student, teacher, boxes, (32, 32))
    sum(out.values()).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_compute_maps():
    student = (torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4))
    teacher = (torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4))
    boxes = [torch.tensor([[0., 0., 16., 16.]]), torch.zeros(0, 4)]
    maps = DynamicGlobalDistillLoss().compute_maps(student, teacher, boxes,
                                                   (64, 64))
    assert len(maps) == 2
    for level, size in zip(maps, (8, 4)):
        for key in ('fg_mask', 'bg_weight', 'spatial_attn_t', 'discrepancy'):
            assert level[key].shape == (2, size, size)
        assert level['channel_attn_t'].shape == (2, 8)
        torch.testing.assert_close(level['bg_weight'].sum(dim=(1, 2)),
                                   torch.ones(2))
    # Level 0, stride 8: the box holds 2 x 2 cells -> 1/4 each.
    assert maps[0]['fg_mask'][0, :2, :2].eq(0.25).all()
    assert maps[0]['fg_mask'].sum() == 1.


def test_attentions_from_the_raw_or_the_standardised_teacher():
    # Teacher channel 0 is 10x channel 1 everywhere (|T| = 10 and 1).
    # Raw: A_c = C softmax(mean|T_c| / tau) = 2 softmax((10, 1) / 0.5)
    #   = 2 / (1 + e^-18) ~ (2, 0).  Standardised: each channel has unit
    # spread, so both channels' mean |T| agree and A_c = (1, 1).
    gen = torch.Generator().manual_seed(0)
    sign = torch.randint(0, 2, (2, 1, 4, 4), generator=gen) * 2. - 1
    teacher = (torch.cat([10 * sign, -sign], dim=1), )
    student = (torch.randn(2, 2, 4, 4, generator=gen), )
    boxes = [torch.zeros(0, 4), torch.zeros(0, 4)]
    raw = DynamicGlobalDistillLoss(attention_from='raw').compute_maps(
        student, teacher, boxes, (32, 32))[0]['channel_attn_t']
    expected = 2 / (1 + torch.exp(torch.tensor(-18.)))
    torch.testing.assert_close(raw[:, 0], expected.expand(2))
    std = DynamicGlobalDistillLoss().compute_maps(student, teacher, boxes,
                                                  (32, 32))[0]
    torch.testing.assert_close(std['channel_attn_t'], torch.ones(2, 2))
    with pytest.raises(ValueError, match='attention_from'):
        DynamicGlobalDistillLoss(attention_from='student')


def test_registered_and_checks_shapes():
    loss = MODELS.build(
        dict(type='dkd_mm.DynamicGlobalDistillLoss', alpha=1e-3))
    assert isinstance(loss, DynamicGlobalDistillLoss) and loss.alpha == 1e-3
    boxes = [torch.zeros(0, 4)]
    with pytest.raises(ValueError, match='adapt the student'):
        loss(torch.randn(1, 4, 4, 4), torch.randn(1, 8, 4, 4), boxes, (32, 32))
    with pytest.raises(ValueError, match='levels'):
        loss((torch.randn(1, 8, 4, 4), ), (torch.randn(1, 8, 4, 4), ) * 2,
             boxes, (32, 32))
    with pytest.raises(ValueError, match='gt_bboxes'):
        loss(
            torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4), boxes * 2,
            (32, 32))
    with pytest.raises(ValueError, match='bg_topk_ratio'):
        DynamicGlobalDistillLoss(bg_topk_ratio=1.5)
