import math

import pytest
import torch

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional.fgd import fgd_masks, global_context
from dkd_mm.losses.fgd_loss import FGDLoss, GlobalContextBlock
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch, get_model_cfg

UNIT = dict(alpha_fgd=1., beta_fgd=1., gamma_fgd=1., lambda_fgd=1.)
KEYS = {'fg', 'bg', 'attn', 'global'}


def _known_pair():
    # One level, N = 1, C = 2 (both channels alike), H = W = 2, 16 x 16
    # input -> stride 8.  T = 1, S = [[0, 0], [0, -1]] in both channels.
    teacher = torch.ones(1, 2, 2, 2)
    student = torch.tensor([[0., 0.], [0., -1.]]).expand(1, 2, 2, 2)
    return student.clone().requires_grad_(), teacher


def test_known_values():
    # T constant: A_s(T) = 1 per cell, A_c(T) = 2 * softmax(a, a) = 1.
    # E = sum_c (S - T)^2 = [[2, 2], [2, 8]].
    # Box (0, 0, 8, 8) holds cell (0, 0), area 1 cell -> M_fg = 1 there:
    #   fg = 2.  M_bg = 1/3 on the other cells: bg = (2 + 2 + 8) / 3 = 4.
    # A_s(S): mean_c |S| / 0.5 = [0, 0, 0, 2] -> 4 * [1, 1, 1, e^2] / Z,
    #   Z = 3 + e^2 (4 / Z < 1 < 4 e^2 / Z), so
    #   |A_s(T) - A_s(S)|_1 = 3 (1 - 4 / Z) + (4 e^2 / Z - 1)
    #                       = 2 + (4 e^2 - 12) / Z;  A_c(S) = A_c(T) = 1.
    # GcBlocks start as the identity (last conv zero): global =
    #   sum (S - T)^2 = 2 * (1 + 1 + 1 + 4) = 14.  loss_weight 2 doubles all.
    student, teacher = _known_pair()
    loss = FGDLoss(in_channels=2, num_levels=1, loss_weight=2., **UNIT)
    out = loss((student, ), (teacher, ), [torch.tensor([[0., 0., 8., 8.]])],
               (16, 16))
    assert set(out) == KEYS
    e2 = math.exp(2)
    expected = {
        'fg': 2.,
        'bg': 4.,
        'attn': 2 + (4 * e2 - 12) / (3 + e2),
        'global': 14.
    }
    for key, value in expected.items():
        torch.testing.assert_close(out[key], torch.tensor(2 * value))


def test_weights_scale_terms():
    student, teacher = _known_pair()
    boxes = [torch.tensor([[4., 4., 8., 8., 0.3]])]
    unit = FGDLoss(2, 1, **UNIT)(student, teacher, boxes, (16, 16))
    scaled = FGDLoss(
        2, 1, alpha_fgd=2., beta_fgd=3., gamma_fgd=5.,
        lambda_fgd=7.)(student, teacher, boxes, (16, 16))
    for key, factor in (('fg', 2.), ('bg', 3.), ('attn', 5.), ('global', 7.)):
        torch.testing.assert_close(scaled[key], factor * unit[key])


def _reference(student_feats, teacher_feats, gt_bboxes, input_shape, temp=0.5):
    """FGD's terms image by image, with FGD's own tensor ops: sqrt-weighted
    features and summed MSE, as in its ``get_fea_loss``."""
    fg = bg = attn = 0.
    for student, teacher in zip(student_feats, teacher_feats):
        num, _, height, width = teacher.shape
        strides = (input_shape[0] / height, input_shape[1] / width)
        for i in range(num):
            s, t = student[i:i + 1], teacher[i:i + 1]
            fg_mask, bg_mask = fgd_masks([gt_bboxes[i]], (height, width),
                                         strides)
            st, ct = _attention(t, temp)
            ss, cs = _attention(s, temp)
            weight = (st * ct).sqrt()
            fg += ((s - t) * weight * fg_mask.sqrt()).pow(2).sum() / num
            bg += ((s - t) * weight * bg_mask.sqrt()).pow(2).sum() / num
            attn += ((st - ss).abs().sum() + (ct - cs).abs().sum()) / num
    return fg, bg, attn


def _attention(feat, temp):
    # Written out again from the FGD paper, not via dkd_mm.functional.
    _, c, h, w = feat.shape
    value = feat.abs()
    spatial = h * w * torch.softmax(value.mean(1).flatten() / temp, 0)
    channel = c * torch.softmax(value.mean((2, 3)).flatten() / temp, 0)
    return spatial.reshape(1, 1, h, w), channel.reshape(1, c, 1, 1)


def test_matches_reference_on_two_levels_two_images():
    torch.manual_seed(0)
    shapes = [(2, 4, 8, 12), (2, 4, 4, 6)]  # input 64 x 96: strides 8, 16
    teacher = tuple(torch.randn(shape) for shape in shapes)
    student = tuple(torch.randn(shape) for shape in shapes)
    boxes = [
        torch.tensor([[10., 5., 40., 30.], [30., 20., 90., 60.]]),
        torch.zeros(0, 4)
    ]
    out = FGDLoss(4, 2, **UNIT)(student, teacher, boxes, (64, 96))
    fg, bg, attn = _reference(student, teacher, boxes, (64, 96))
    torch.testing.assert_close(out['fg'], fg)
    torch.testing.assert_close(out['bg'], bg)
    torch.testing.assert_close(out['attn'], attn)


@pytest.mark.parametrize('dim', [4, 5])
def test_empty_gt_gives_zero_fg_and_known_rest(dim):
    # No box: fg = 0 and M_bg = 1 / (H W) on every cell, so bg is, per
    # image, the mean over cells of E = sum_c A_s A_c (S - T)^2; attn as in
    # FGD; the GcBlocks start as the identity: global = sum (S - T)^2 / N.
    torch.manual_seed(0)
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 8, 4, 4)
    out = FGDLoss(8, 1, **UNIT)(student, teacher, [torch.zeros(0, dim)] * 2,
                                (32, 32))
    bg = attn = 0.
    for i in range(2):
        s, t = student[i:i + 1].detach(), teacher[i:i + 1]
        spatial_t, channel_t = _attention(t, 0.5)
        spatial_s, channel_s = _attention(s, 0.5)
        bg += (spatial_t * channel_t * (s - t)**2).sum(1).mean() / 2
        attn += ((spatial_t - spatial_s).abs().sum() +
                 (channel_t - channel_s).abs().sum()) / 2
    assert out['fg'].item() == 0.
    torch.testing.assert_close(out['bg'], bg)
    torch.testing.assert_close(out['attn'], attn)
    torch.testing.assert_close(out['global'],
                               (student.detach() - teacher).pow(2).sum() / 2)
    sum(out.values()).backward()
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().sum() > 0


def test_rotated_at_angle_zero_equals_horizontal():
    # Dyadic coordinates: both forms are exact in float32.
    horizontal = torch.tensor([[4., 8., 36., 24.], [20., 2., 30., 60.]])
    centre = (horizontal[:, :2] + horizontal[:, 2:]) / 2
    size = horizontal[:, 2:] - horizontal[:, :2]
    rotated = torch.cat([centre, size, torch.zeros(2, 1)], dim=1)
    for feat_size, strides in (((8, 8), (8., 8.)), ((16, 6), (4., 32 / 6))):
        fg_h, bg_h = fgd_masks([horizontal], feat_size, strides)
        fg_r, bg_r = fgd_masks([rotated], feat_size, strides)
        assert fg_h.gt(0).any()
        assert torch.equal(fg_h, fg_r) and torch.equal(bg_h, bg_r)
    torch.manual_seed(0)
    student, teacher = torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)
    loss = FGDLoss(4, 1)
    out_h = loss(student, teacher, [horizontal], (64, 64))
    out_r = loss(student, teacher, [rotated], (64, 64))
    for key in KEYS:
        torch.testing.assert_close(out_h[key], out_r[key])


def _slow_fg_mask(boxes, feat_size, strides):
    """One box at a time, one cell at a time, in float64."""
    height, width = feat_size
    mask = torch.zeros(height, width, dtype=torch.float64)
    for box in boxes.double().tolist():
        if len(box) == 4:
            x1, y1, x2, y2 = box
            cx, cy, w, h, angle = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, \
                y2 - y1, 0.
        else:
            cx, cy, w, h, angle = box
        area = max(1., w * h / (strides[0] * strides[1]))
        for row in range(height):
            for col in range(width):
                dx = (col + 0.5) * strides[1] - cx
                dy = (row + 0.5) * strides[0] - cy
                u = dx * math.cos(angle) + dy * math.sin(angle)
                v = -dx * math.sin(angle) + dy * math.cos(angle)
                if -w / 2 <= u < w / 2 and -h / 2 <= v < h / 2:
                    mask[row, col] = max(mask[row, col], 1. / area)
    return mask.float()


@pytest.mark.parametrize('rotated', [False, True])
def test_vectorised_masks_match_per_box_reference(rotated):
    # Many overlapping boxes of all sizes on a non-square grid whose
    # strides are not integers; an image without boxes in the batch.
    gen = torch.Generator().manual_seed(3)
    num = 60
    centre = torch.rand(num, 2, generator=gen) * torch.tensor([100., 60.])
    size = torch.rand(num, 2, generator=gen) * 40 + 0.5
    if rotated:
        angle = (torch.rand(num, 1, generator=gen) - 0.5) * math.pi
        boxes = torch.cat([centre, size, angle], dim=1)
    else:
        boxes = torch.cat([centre - size / 2, centre + size / 2], dim=1)
    feat_size, input_shape = (9, 13), (60, 100)
    strides = (input_shape[0] / 9, input_shape[1] / 13)
    fg, bg = fgd_masks([boxes, boxes[:0]], feat_size, strides)
    slow = _slow_fg_mask(boxes, feat_size, strides)
    torch.testing.assert_close(fg[0], slow)
    assert fg[1].eq(0).all()
    slow_bg = (slow == 0).float() / (slow == 0).sum()
    torch.testing.assert_close(bg[0], slow_bg)
    torch.testing.assert_close(bg[1], torch.full(feat_size, 1 / 117.))


def test_backward_reaches_student_and_gcblocks_not_teacher():
    from mmrotate.structures.bbox import RotatedBoxes
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 8, 4, 4, requires_grad=True)
    boxes = [
        RotatedBoxes(torch.tensor([[8., 8., 20., 12., 0.5]])),
        torch.tensor([[0., 0., 16., 16.]])
    ]
    loss = FGDLoss(8, 1)
    out = loss(student, teacher, boxes, (32, 32))
    sum(out.values()).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None
    for block in (loss.gc_student[0], loss.gc_teacher[0]):
        assert block.channel_add[-1].weight.grad.abs().sum() > 0


def test_global_context_block():
    # Constant logits pool by the mean; the zero last conv adds nothing.
    feat = torch.arange(8.).reshape(1, 2, 2, 2)
    context = global_context(feat, torch.zeros(1, 1, 2, 2))
    torch.testing.assert_close(context.flatten(), torch.tensor([1.5, 5.5]))
    block = GlobalContextBlock(2)
    assert torch.equal(block(feat), feat)


def test_registered_and_checks_shapes():
    loss = MODELS.build(dict(type='dkd_mm.FGDLoss'))
    assert isinstance(loss, FGDLoss)
    assert len(loss.gc_student) == len(loss.gc_teacher) == 5
    assert loss.gc_student[0].context_logits.in_channels == 256
    loss = FGDLoss(8, 1)
    boxes = [torch.zeros(0, 4)]
    with pytest.raises(ValueError, match='in_channels'):
        loss(torch.randn(1, 4, 4, 4), torch.randn(1, 4, 4, 4), boxes, (32, 32))
    with pytest.raises(ValueError, match='student'):
        loss(torch.randn(1, 8, 2, 2), torch.randn(1, 8, 4, 4), boxes, (32, 32))
    with pytest.raises(ValueError, match='levels'):
        loss((torch.randn(1, 8, 4, 4), ) * 2, (torch.randn(1, 8, 4, 4), ) * 2,
             boxes, (32, 32))
    with pytest.raises(ValueError, match='gt_bboxes'):
        loss(
            torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4), boxes * 2,
            (32, 32))


def test_baseline_config_builds_and_runs_one_step():
    cfg = get_model_cfg(
        'rotated_retinanet/fgd_rotated-retinanet_r50-r18_synthetic.py')
    cfg.teacher_ckpt = None
    model = MODELS.build(cfg)
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    assert {f'loss_fgd_{k}' for k in KEYS} <= set(losses)
    # The terms are FGD's on the adapted student neck and the teacher neck
    # (extracted here, not through the distiller's recorder) and the GT
    # boxes, with the config's weights; fresh GcBlocks, as the model's,
    # start as the identity.
    with torch.no_grad():
        teacher = model.teacher.extract_feat(inputs)
        student = tuple(
            adapter(feat) for adapter, feat in zip(
                model.adapters, model.student.extract_feat(inputs)))
    expected = FGDLoss(
        128,
        5,
        alpha_fgd=0.001,
        beta_fgd=0.0005,
        gamma_fgd=0.0005,
        lambda_fgd=0.000005)(student, teacher,
                             [s.gt_instances.bboxes.tensor for s in samples],
                             tuple(inputs.shape[-2:]))
    for key in KEYS:
        assert expected[key] > 0
        torch.testing.assert_close(
            losses[f'loss_fgd_{key}'].detach(),
            expected[key],
            rtol=1e-5,
            atol=0)


def test_one_width_per_level():
    # A neck whose levels differ in width: one GcBlock width per level.
    loss = FGDLoss(in_channels=[8, 4], num_levels=2, **UNIT)
    assert [b.context_logits.in_channels for b in loss.gc_student] == [8, 4]
    torch.manual_seed(0)
    feats = (torch.randn(1, 8, 4, 4), torch.randn(1, 4, 2, 2))
    student = tuple(torch.randn_like(f) for f in feats)
    boxes = [torch.tensor([[0., 0., 16., 16.]])]
    terms = loss(student, feats, boxes, (32, 32))
    # Each level at its own width, summed; GcBlocks start as the identity.
    expected = dict(
        zip(('fg', 'bg', 'attn'), _reference(student, feats, boxes, (32, 32))))
    expected['global'] = sum(
        (s - t).pow(2).sum() for s, t in zip(student, feats))
    for key in KEYS:
        torch.testing.assert_close(terms[key], expected[key])
    with pytest.raises(ValueError, match='level 1: 8 channels'):
        loss(feats[:1] * 2, feats[:1] * 2, [torch.zeros(0, 4)], (32, 32))
    with pytest.raises(ValueError, match='num_levels is 3'):
        FGDLoss(in_channels=[8, 4], num_levels=3)
