import math
import uuid

import pytest
import torch
from mmengine.logging import MessageHub

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.functional import box_deltas
from dkd_mm.losses.tsa_loss import TSALoss
from dkd_mm.registry import MODELS

# Hardness of a 40 x 10 box (see tests/test_functional/test_hardness.py).
H_40X10 = 1 + 0.5 * math.log(4) + 0.5 * math.log(32 / 20)


def _hboxes(num: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    xy = torch.rand(num, 2, generator=gen) * 100
    wh = torch.rand(num, 2, generator=gen) * 60 + 2
    target = torch.cat([xy, xy + wh], dim=1)
    pred = target + torch.randn(num, 4, generator=gen) * 3
    return pred, target


def _rboxes(num: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    target = torch.cat([
        torch.rand(num, 2, generator=gen) * 100,
        torch.rand(num, 2, generator=gen) * 60 + 2,
        (torch.rand(num, 1, generator=gen) - 0.5) * math.pi
    ],
                       dim=1)
    pred = target + torch.randn(num, 5, generator=gen) * 0.2
    return pred, target


BASES = [
    (dict(type='mmdet.L1Loss', loss_weight=2.), _hboxes),
    (dict(type='mmdet.GIoULoss'), _hboxes),
    (dict(type='mmrotate.GDLoss', loss_type='gwd', loss_weight=5.), _rboxes),
]


@pytest.mark.parametrize('base_cfg,make_boxes', BASES)
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('avg_factor', [None, 3.5])
def test_equals_base_loss_at_psi_zero(base_cfg, make_boxes, weighted,
                                      avg_factor):
    # omega == 1: the TSA mean must be exactly the base loss's own mean
    # with the same weight and avg_factor.
    pred, target = make_boxes(6)
    weight = None
    if weighted:  # (n, k) weights with negatives, as dense heads pass
        weight = torch.ones_like(pred)
        weight[[1, 4]] = 0
    base = MODELS.build(base_cfg)
    tsa = TSALoss(base_cfg, psi=0.)
    torch.testing.assert_close(
        tsa(pred, target, weight, avg_factor=avg_factor),
        base(pred, target, weight, avg_factor=avg_factor))
    if avg_factor is None:
        torch.testing.assert_close(
            tsa(pred, target, weight, reduction_override='sum'),
            base(pred, target, weight, reduction_override='sum'))
    torch.testing.assert_close(
        tsa(pred, target, weight, reduction_override='none'),
        base(pred, target, weight, reduction_override='none'))


def test_weighting_at_psi_one_known_values():
    # Targets: a 64 x 64 square (h = 1) and a 40 x 10 box (h = H_40X10).
    # L1 per box: |1 - 0| = 1 and |12 - 10| = 2; 8 elements.
    # omega = (1, h), normalised to mean 1: 2 * omega / (1 + h).
    # mean = 2 * (1 * 1 + h * 2) / (1 + h) / 8 = (1 + 2h) / (4 (1 + h))
    # (the base mean is 3 / 8: the hard box now weighs more).
    target = torch.tensor([[0., 0., 64., 64.], [0., 0., 40., 10.]])
    pred = torch.tensor([[1., 0., 64., 64.], [0., 0., 40., 12.]])
    tsa = TSALoss(dict(type='mmdet.L1Loss'), psi=1., loss_weight=3.)
    expected = 3 * (1 + 2 * H_40X10) / (4 * (1 + H_40X10))
    torch.testing.assert_close(tsa(pred, target), torch.tensor(expected))
    # With avg_factor 2: sum_i omega_i l_i / (avg_factor + eps).
    expected = 3 * 2 * (1 + 2 * H_40X10) / (1 + H_40X10) / 2
    torch.testing.assert_close(
        tsa(pred, target, avg_factor=2), torch.tensor(expected))
    # Half-way: omega = (1, 1 + (h - 1) / 2).
    omega_b = 1 + (H_40X10 - 1) / 2
    expected = (1 + 2 * omega_b) / (4 * (1 + omega_b))
    torch.testing.assert_close(
        TSALoss(dict(type='mmdet.L1Loss'), psi=0.5)(pred, target),
        torch.tensor(expected))


def test_unnormalised_weights_known_values():
    # normalize='none': omega = (1, h) as it is, no rescaling to mean 1:
    # mean = (1 * 1 + h * 2) / 8 (the same boxes as above).
    target = torch.tensor([[0., 0., 64., 64.], [0., 0., 40., 10.]])
    pred = torch.tensor([[1., 0., 64., 64.], [0., 0., 40., 12.]])
    tsa = TSALoss(dict(type='mmdet.L1Loss'), psi=1., normalize='none')
    torch.testing.assert_close(
        tsa(pred, target), torch.tensor((1 + 2 * H_40X10) / 8))
    # At psi = 0 it is the base loss in both modes.
    torch.testing.assert_close(
        TSALoss(dict(type='mmdet.L1Loss'), psi=0., normalize='none')(pred,
                                                                     target),
        torch.tensor(3 / 8))
    with pytest.raises(ValueError, match='normalize'):
        TSALoss(dict(type='mmdet.L1Loss'), normalize='batch')


@pytest.fixture
def hub():
    """A new current message hub; a fresh, empty one is current after."""
    # get_instance makes a hub of a new name the current one.
    yield MessageHub.get_instance(f'test_tsa_loss_{uuid.uuid4()}')
    MessageHub.get_instance(f'test_tsa_loss_{uuid.uuid4()}')


def test_psi_from_message_hub(hub):
    pred, target = _rboxes(5)
    base_cfg = dict(type='mmrotate.GDLoss', loss_type='gwd')
    tsa = TSALoss(base_cfg)
    hub.update_info('dkd/train_status', 1.)
    torch.testing.assert_close(
        tsa(pred, target),
        TSALoss(base_cfg, psi=1.)(pred, target))
    hub.pop_info('dkd/train_status')
    hub.update_info('iter', 30)
    hub.update_info('max_iters', 60)
    torch.testing.assert_close(
        tsa(pred, target),
        TSALoss(base_cfg, psi=.5)(pred, target))


@pytest.mark.parametrize('base_cfg,make_boxes', BASES)
def test_empty_and_zero_weight(base_cfg, make_boxes):
    tsa = TSALoss(base_cfg, psi=1.)
    dim = make_boxes(1)[0].size(1)
    pred = torch.zeros(0, dim, requires_grad=True)
    loss = tsa(pred, torch.zeros(0, dim), avg_factor=0)
    assert loss.item() == 0.
    loss.backward()
    assert pred.grad.shape == (0, dim)
    pred, target = make_boxes(3)
    pred.requires_grad_(True)
    loss = tsa(pred, target, torch.zeros_like(pred), avg_factor=1.)
    assert loss.item() == 0.
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


@pytest.mark.parametrize('base_cfg,make_boxes', BASES)
def test_backward(base_cfg, make_boxes):
    pred, target = make_boxes(4)
    pred.requires_grad_(True)
    loss = TSALoss(base_cfg, psi=1.)(pred, target, avg_factor=4.)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(pred.grad).all()
    assert pred.grad.abs().sum() > 0


@pytest.mark.parametrize('make_boxes,stds', [(_rboxes, (1., 1., 1., 1., 1.)),
                                             (_hboxes, (.1, .1, .2, .2))])
@pytest.mark.parametrize('weighted', [False, True])
def test_delta_mode_is_the_base_loss_on_box_deltas(make_boxes, stds, weighted):
    # psi == 0: the head's own L1, taken on the deltas of each predicted box
    # relative to its target box, compared with 0.
    pred, target = make_boxes(6)
    weight = torch.ones_like(pred) if weighted else None
    if weighted:
        weight[[0, 3]] = 0
    base = MODELS.build(dict(type='mmdet.L1Loss', loss_weight=2.))
    tsa = TSALoss(
        dict(type='mmdet.L1Loss', loss_weight=2.), delta_stds=stds, psi=0.)
    deltas = box_deltas(pred, target, stds)
    torch.testing.assert_close(
        tsa(pred, target, weight, avg_factor=5.),
        base(deltas, torch.zeros_like(deltas), weight, avg_factor=5.))


def test_delta_mode_known_value_and_backward():
    # Two targets: a 64 x 64 square (h = 1) and a 40 x 10 box (h = H_40X10).
    # The square's pred is 2x as wide (|dw| = log 2), the thin box's pred
    # moved by 20 px along its long side (|dx| = 0.5). psi = 1 weights them
    # 2 / (1 + h) and 2 h / (1 + h); mean over 10 elements.
    target = torch.tensor([[0., 0., 64., 64., 0.], [0., 0., 40., 10., 0.]])
    pred = torch.tensor([[0., 0., 128., 64., 0.], [20., 0., 40., 10., 0.]],
                        requires_grad=True)
    tsa = TSALoss(dict(type='mmdet.L1Loss'), delta_stds=(1., ) * 5, psi=1.)
    loss = tsa(pred, target)
    expected = 2 * (math.log(2) + H_40X10 * .5) / (1 + H_40X10) / 10
    torch.testing.assert_close(loss, torch.tensor(expected))
    loss.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_delta_mode_checks_the_stds_length():
    pred, target = _rboxes(2)
    with pytest.raises(ValueError, match='delta_stds has 4 values'):
        TSALoss(dict(type='mmdet.L1Loss'), delta_stds=(1., ) * 4)(pred, target)


def test_registered():
    tsa = MODELS.build(
        dict(
            type='dkd_mm.TSALoss', base_loss=dict(type='mmdet.L1Loss'),
            s0=16.))
    assert isinstance(tsa, TSALoss) and tsa.s0 == 16.
