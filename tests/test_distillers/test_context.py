"""The distillation contract: DistillContext's fields, the loss arguments
checked against them, and what a loss may return."""
import inspect

import pytest
import torch
from torch import nn

import dkd_mm  # noqa: F401  (compat shims, registration)
import dkd_mm.losses
from dkd_mm.distillers.checks import loss_arguments
from dkd_mm.distillers.context import DistillContext, split_loss_output
from dkd_mm.registry import MODELS

# Losses of dkd_mm.losses that the distiller does not call: TSALoss wraps a
# head's box loss, called by the head with (pred, target, weight...).
HEAD_LOSSES = {'TSALoss'}


def _distillation_losses():
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if cls.__module__.startswith('dkd_mm.losses.')
                  and name not in HEAD_LOSSES)


def test_field_names_are_derived_from_the_class():
    assert DistillContext.field_names() == ('student_feats', 'teacher_feats',
                                            'gt_bboxes', 'gt_labels',
                                            'batch_input_shape',
                                            'teacher_preds', 'student_preds',
                                            'train_status')


def test_registered_losses_are_found():
    # Guards the enumeration below against silently testing nothing.
    assert set(
        _distillation_losses()) == set(dkd_mm.losses.__all__) - HEAD_LOSSES


@pytest.mark.parametrize('loss_type', _distillation_losses())
def test_every_argument_a_loss_names_is_a_field(loss_type):
    loss = MODELS.build(dict(type=loss_type, _scope_='dkd_mm'))
    names = loss_arguments('loss_x', loss, DistillContext.field_names())
    params = inspect.signature(loss.forward).parameters
    assert names == list(params)
    assert set(names) <= set(DistillContext.field_names())


def test_unknown_argument_names_it_and_the_fields():

    class AsksTooMuch(nn.Module):

        def forward(self, student_feats, teacher_logits):
            return student_feats[0].sum()

    with pytest.raises(ValueError) as info:
        loss_arguments('loss_bad', AsksTooMuch(), DistillContext.field_names())
    message = str(info.value)
    assert "distill_losses.loss_bad (AsksTooMuch) asks for " \
        "['teacher_logits']" in message
    assert all(name in message for name in DistillContext.field_names())


def _context(calls):

    def counted(name, value):

        def compute():
            calls[name] = calls.get(name, 0) + 1
            return value

        return compute

    feats = (torch.zeros(1, 2, 4, 4), )
    return DistillContext(
        student_feats=feats,
        teacher_feats=feats,
        gt_bboxes=[torch.zeros(0, 5)],
        gt_labels=[torch.zeros(0, dtype=torch.long)],
        batch_input_shape=(32, 32),
        predict_teacher=counted('teacher_preds', ['t']),
        predict_student=counted('student_preds', ['s']),
        read_train_status=counted('train_status', 0.25))


def test_lazy_fields_are_computed_once_and_only_when_asked():
    calls = {}
    context = _context(calls)
    assert calls == {}
    assert context.teacher_preds == ['t'] and context.train_status == 0.25
    assert context.teacher_preds == ['t'] and context.train_status == 0.25
    assert calls == {'teacher_preds': 1, 'train_status': 1}
    assert context.student_preds == ['s'] and context.student_preds == ['s']
    assert calls == {'teacher_preds': 1, 'train_status': 1, 'student_preds': 1}
    # Every field is an attribute of a built context.
    for name in DistillContext.field_names():
        getattr(context, name)


def test_split_loss_output():
    value = torch.tensor(2.)
    assert split_loss_output('loss_fit', value) == ({'loss_fit': value}, {})
    terms, stats = split_loss_output(
        'loss_isd',
        dict(feat=value, log_selected=3, log_rate=torch.tensor(0.5)))
    assert terms == {'loss_isd_feat': value}
    assert set(stats) == {'isd_selected', 'isd_rate'}
    assert stats['isd_selected'].dtype == torch.float32
    assert stats['isd_selected'].item() == 3.
    # The prefix is the name without 'loss', whatever its place.
    _, stats = split_loss_output('my_loss_gd2', dict(log_n=1))
    assert set(stats) == {'my_gd2_n'}
    _, stats = split_loss_output('loss', dict(log_n=1))
    assert set(stats) == {'n'}
    with pytest.raises(ValueError, match='without "loss"'):
        split_loss_output('loss_isd', dict(log_loss_ratio=1.))
