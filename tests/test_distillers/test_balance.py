"""TermBalancer: each distillation term at its share of the detection loss."""
import pytest
import torch
from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint

import dkd_mm  # noqa: F401
from dkd_mm.distillers.balance import (TermBalancer, balance_scales,
                                       build_balancer, detection_loss,
                                       share_key)
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch
from tests.test_distillers.test_dkd_distiller import _cfg

GD = dict(type='DynamicGlobalDistillLoss', pool_size=4)


def test_scales_hand_worked():
    # Averages: ratios 2 / 1 = 2 and 0.5 / 1 = 0.5; now: 4 / 2 = 2 and
    # 2 / 2 = 1.  max -> (2, 1); scales = shares / max = (0.5 / 2,
    # 0.25 / 1) = (0.25, 0.25).  Term 0 then is 4 * 0.25 = 1 = 0.5 D, its
    # share; term 1, in a spike (now above its average), is cut to its
    # share: 2 * 0.25 = 0.5 = 0.25 D (by its average alone: 1 = 0.5 D).
    scales = balance_scales(
        torch.tensor([2., 0.5]), torch.tensor(1.), torch.tensor([4., 2.]),
        torch.tensor(2.), torch.tensor([0.5, 0.25]))
    torch.testing.assert_close(scales, torch.tensor([0.25, 0.25]))


def test_a_term_zero_now_and_on_average_is_scaled_by_zero():
    scales = balance_scales(
        torch.tensor([0., 1.]), torch.tensor(1.), torch.tensor([0., 0.]),
        torch.tensor(1.), torch.tensor([0.5, 0.5]))
    # Term 1 is zero now but not on average: scale 0.5 / 1, value 0.
    torch.testing.assert_close(scales, torch.tensor([0., 0.5]))


def test_first_step_puts_every_term_at_its_share():
    balancer = TermBalancer(
        shares=dict(loss_a=0.5, loss_b=0.1), default_share=0.3).train()
    terms = {
        'loss_a': torch.tensor(40., requires_grad=True),
        'loss_b': torch.tensor(0.01, requires_grad=True),
        'loss_c': torch.tensor(3., requires_grad=True)
    }
    detection = torch.tensor(2.)
    out = balancer(terms, detection)
    # 0.5 * 2, 0.1 * 2, 0.3 * 2 (loss_c takes the default share).
    torch.testing.assert_close(out['loss_a'], torch.tensor(1.))
    torch.testing.assert_close(out['loss_b'], torch.tensor(0.2))
    torch.testing.assert_close(out['loss_c'], torch.tensor(0.6))
    # The gradient is the term's own, times the scale (no gradient
    # through the scale): d(s * a) / da = s = 1 / 40.
    out['loss_a'].backward()
    torch.testing.assert_close(terms['loss_a'].grad, torch.tensor(1 / 40))


def test_running_averages_hand_worked():
    balancer = TermBalancer(default_share=0.5, momentum=0.5).train()
    balancer({'loss_a': torch.tensor(4.)}, torch.tensor(2.))
    # Step 2: averages 0.5 * (2, 4) + 0.5 * (4, 4) = (3, 4): ratio 4 / 3;
    # now 4 / 4 = 1; max 4 / 3 -> scale 0.5 * 3 / 4 = 0.375, value 1.5.
    out = balancer({'loss_a': torch.tensor(4.)}, torch.tensor(4.))
    torch.testing.assert_close(out['loss_a'], torch.tensor(1.5))
    torch.testing.assert_close(balancer._avg, torch.tensor([3., 4.]))
    # In eval the averages stay as they are.
    balancer.eval()
    balancer({'loss_a': torch.tensor(40.)}, torch.tensor(1.))
    torch.testing.assert_close(balancer._avg, torch.tensor([3., 4.]))


def test_share_of_a_term_its_loss_or_the_default():
    balancer = TermBalancer(
        shares=dict(
            loss_gd=0.2, loss_gd_fg=0.7, loss_gd_fg_x=0.9, loss_isd=0.1),
        default_share=0.05)
    assert balancer.share_of('loss_gd_fg') == 0.7
    assert balancer.share_of('loss_gd_bg') == 0.2
    assert balancer.share_of('loss_gd_fg_x_y') == 0.9  # the longest name
    assert balancer.share_of('loss_isdx') == 0.05  # not loss_isd's term
    assert balancer.share_of('loss_fitnet') == 0.05


def test_bad_configs_fail_when_built():
    with pytest.raises(ValueError, match='balance.shares.loss_pkd: no'):
        build_balancer(dict(shares=dict(loss_pkd=0.5)), ['loss_gd'])
    with pytest.raises(ValueError, match='loss_gd must be a finite'):
        build_balancer(dict(shares=dict(loss_gd=0)), ['loss_gd'])
    with pytest.raises(ValueError, match='default_share'):
        build_balancer(dict(default_share=float('inf')), ['loss_gd'])
    with pytest.raises(ValueError, match='momentum'):
        build_balancer(dict(momentum=1.0), ['loss_gd'])
    with pytest.raises(TypeError, match='balance: .*weight'):
        build_balancer(dict(weight=2), ['loss_gd'])


def test_changed_terms_fail():
    balancer = TermBalancer().train()
    balancer({'loss_a': torch.tensor(1.)}, torch.tensor(1.))
    with pytest.raises(KeyError, match='terms changed'):
        balancer({'loss_b': torch.tensor(1.)}, torch.tensor(1.))


def test_detection_loss_sums_as_parse_losses():
    losses = {
        'loss_cls': [torch.tensor([1., 3.]),
                     torch.tensor(0.5)],  # 2 + 0.5
        'loss_bbox': torch.tensor(1.),
        'acc': torch.tensor(90.),
    }
    torch.testing.assert_close(detection_loss(losses), torch.tensor(3.5))
    with pytest.raises(KeyError, match='no loss'):
        detection_loss({'acc': torch.tensor(1.)})
    assert share_key('loss_global_distill_fg') == 'share_global_distill_fg'
    assert 'loss' not in share_key('loss_cwd_loss')


def _distiller(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        _cfg(
            distill_losses=dict(loss_gd=GD),
            balance=dict(shares=dict(loss_gd_fg=0.5), default_share=0.2),
            **kwargs)).train()


def test_distiller_terms_at_their_shares_and_logged():
    model = _distiller()
    model.distill_scale = 0.5  # the warm-up's scale applies after
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    detection = float(
        detection_loss({
            k: losses[k]
            for k in ('loss_cls', 'loss_bbox')
        }).detach())
    for term, share in (('loss_gd_fg', 0.5), ('loss_gd_bg', 0.2),
                        ('loss_gd_relation', 0.2)):
        # First step: each term at share * D, times the warm-up's 0.5.
        assert float(losses[term].detach()) == pytest.approx(
            0.5 * share * detection, rel=1e-4)
        assert float(losses[share_key(term)]) == pytest.approx(
            0.5 * share, rel=1e-4)
    assert all('loss' not in k for k in losses if k.startswith('share_'))


def test_term_weights_and_balance_are_exclusive():
    with pytest.raises(ValueError, match='exclusive'):
        _distiller(term_weights=dict(loss_gd_fg=2.0))


def test_checkpoint_holds_the_averages_and_resume_restores_them(tmp_path):
    model = _distiller()
    inputs, samples = demo_batch()
    model.loss(inputs, samples)
    model.loss(inputs, samples)
    saved = model.balancer.get_extra_state()
    assert saved['steps'] == 2 and saved['keys'] == sorted(saved['keys'])
    path = str(tmp_path / 'iter_2.pth')
    save_checkpoint({'state_dict': model.state_dict()}, path)
    resumed = _distiller()
    assert resumed.balancer._avg is None
    load_checkpoint(resumed, path, map_location='cpu')
    state = resumed.balancer.get_extra_state()
    assert state['keys'] == saved['keys'] and state['steps'] == 2
    torch.testing.assert_close(state['avg'], saved['avg'])
    # And the next step scales alike in both.
    torch.manual_seed(1)
    a = model.loss(inputs, samples)
    torch.manual_seed(1)
    b = resumed.loss(inputs, samples)
    for key in saved['keys']:
        torch.testing.assert_close(a[key], b[key])
