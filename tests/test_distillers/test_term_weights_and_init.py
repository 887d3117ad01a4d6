"""DKDDistiller's per-term weights and its paired student initialisation."""
import pytest
import torch

import dkd_mm  # noqa: F401
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch, get_model_cfg
from tests.test_distillers.test_dkd_distiller import _cfg

# The FGD baseline's loss at its published weights.
FGD = get_model_cfg(
    'rotated_retinanet/'
    'fgd_rotated-retinanet_r50-r18_synthetic.py').distill_losses.loss_fgd


def _losses(model) -> dict:
    torch.manual_seed(0)
    inputs, samples = demo_batch()
    return model.loss(inputs, samples)


def test_term_weights_multiply_only_the_named_terms():
    torch.manual_seed(0)
    plain = MODELS.build(_cfg(distill_losses=dict(loss_fgd=FGD)))
    torch.manual_seed(0)
    weighted = MODELS.build(
        _cfg(
            distill_losses=dict(loss_fgd=FGD),
            term_weights=dict(loss_fgd_fg=3.0, loss_fgd_global=0.0)))
    weighted.load_state_dict(plain.state_dict())
    base, scaled = _losses(plain), _losses(weighted)
    assert {'loss_fgd_fg', 'loss_fgd_bg', 'loss_fgd_global'} <= set(base)
    assert float(base['loss_fgd_fg']) > 0
    torch.testing.assert_close(scaled['loss_fgd_fg'], 3 * base['loss_fgd_fg'])
    assert float(scaled['loss_fgd_global']) == 0
    torch.testing.assert_close(scaled['loss_fgd_bg'], base['loss_fgd_bg'])
    torch.testing.assert_close(scaled['loss_cls'], base['loss_cls'])
    # And under the warm-up's scale: weight times scale.
    weighted.distill_scale = 0.5
    half = _losses(weighted)
    torch.testing.assert_close(half['loss_fgd_fg'], 1.5 * base['loss_fgd_fg'])


def test_term_weights_of_no_loss_fail_when_built():
    with pytest.raises(ValueError, match='term_weights.loss_pkd: no'):
        MODELS.build(_cfg(term_weights=dict(loss_pkd=2.0)))
    with pytest.raises(ValueError, match='finite number >= 0'):
        MODELS.build(_cfg(term_weights=dict(loss_fitnet=-1.0)))


def test_term_weights_of_an_unknown_suffix_fail_at_the_first_step():
    model = MODELS.build(_cfg(term_weights=dict(loss_fitnet_fg=2.0)))
    with pytest.raises(KeyError, match='loss_fitnet_fg'):
        _losses(model)


@pytest.mark.parametrize('distill_losses', [
    dict(loss_fitnet=dict(type='FitNetLoss')),
    dict(loss_fgd=FGD),
])
def test_student_starts_as_the_plain_student_of_the_same_seed(distill_losses):
    # What mmengine's Runner does: seed, build, init_weights.  The teacher
    # and the adapters (and FGD's own modules) are built after the student
    # and draw from the RNG; the student must not see those draws.
    torch.manual_seed(3)
    plain = MODELS.build(
        get_model_cfg('rotated_retinanet/'
                      'rotated-retinanet_r18_fpn_synthetic.py'))
    plain.init_weights()
    torch.manual_seed(3)
    distiller = MODELS.build(_cfg(distill_losses=distill_losses))
    distiller.init_weights()
    expected = plain.state_dict()
    got = distiller.student.state_dict()
    assert expected.keys() == got.keys()
    differ = [k for k in expected if not torch.equal(expected[k], got[k])]
    assert not differ, differ[:5]
    # Another seed gives another student (the check can fail).
    torch.manual_seed(4)
    other = MODELS.build(_cfg(distill_losses=distill_losses))
    other.init_weights()
    assert not torch.equal(other.student.bbox_head.retina_cls.weight,
                           plain.bbox_head.retina_cls.weight)
