"""DKDTeacherHook with a mock runner (mmrazor's StopDistillHook test style)."""
import hashlib
import itertools
from unittest import mock

import pytest
import torch
from mmengine.logging import MessageHub
from torch import nn

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.hooks import DKDTeacherHook
from dkd_mm.hooks.teacher_hook import (iter_status, loss_status, lr_first_drop,
                                       lr_warmup_iters, warmup_scale)
from dkd_mm.registry import HOOKS, MODELS
from dkd_mm.utils.train_status import TRAIN_STATUS_KEY, current_train_status

LOG = 'dkd_mm.hooks.teacher_hook.print_log'
_names = itertools.count()


class FakeTeacher(nn.Linear):
    """A frozen stand-in detector: ``predict`` tags each sample."""

    def __init__(self) -> None:
        super().__init__(2, 2)
        self.requires_grad_(False)
        self.eval()

    def predict(self, inputs, data_samples):
        return [
            dict(sample, pred=float(x.sum()))
            for x, sample in zip(inputs, data_samples)
        ]


class FakeDistiller(nn.Module):
    """What the hook needs of a DKDDistiller: teacher, teacher_ckpt,
    distill_scale (and a data preprocessor to evaluate the teacher)."""

    def __init__(self, teacher_ckpt=None) -> None:
        super().__init__()
        self.student = nn.Linear(2, 2)
        self.teacher = FakeTeacher()
        self.teacher_ckpt = teacher_ckpt
        self.distill_scale = 1.0

    def data_preprocessor(self, data, training=False):
        assert training is False
        return dict(
            inputs=data['inputs'] * 2, data_samples=data['data_samples'])


class Runner:
    """The runner attributes the hook reads, with its own message hub."""

    def __init__(self, model, max_iters=100) -> None:
        self.model = model
        self.iter = 0
        self.epoch = 0
        self.max_iters = max_iters
        # get_instance makes this hub the current one, as a Runner does.
        self.message_hub = MessageHub.get_instance(
            f'test_teacher_hook_{next(_names)}')


@pytest.fixture(autouse=True)
def release_hubs():
    yield
    # The latest hub is the current one: leave a fresh, empty one current.
    MessageHub.get_instance(f'test_teacher_hook_{next(_names)}')


def _step(hook, runner, cur_iter, loss=None, epoch=0):
    """One iteration; returns (psi published before it, distill scale)."""
    runner.iter, runner.epoch = cur_iter, epoch
    hook.before_train_iter(runner, cur_iter)
    psi = runner.message_hub.get_info(TRAIN_STATUS_KEY)
    scale = runner.model.distill_scale
    assert runner.message_hub.get_scalar(
        'train/distill_scale').current() == scale
    outputs = None if loss is None else dict(loss_bbox=torch.tensor(loss))
    hook.after_train_iter(runner, cur_iter, outputs=outputs)
    return psi, scale


def test_status_helpers():
    # (25 / 100) ** 2 = 0.0625; clipped to [0, 1].
    assert iter_status(25, 100, 2.) == pytest.approx(0.0625)
    assert iter_status(150, 100, 1.) == 1.0
    assert iter_status(0, 0, 1.) == 0.0
    # status_end 0.5: 1 from half of training on; 25 / 50 = 0.5 before.
    assert iter_status(25, 100, 1., end=0.5) == pytest.approx(0.5)
    assert iter_status(25, 100, 2., end=0.5) == pytest.approx(0.25)
    assert iter_status(50, 100, 1., end=0.5) == 1.0
    assert iter_status(90, 100, 1., end=0.5) == 1.0
    # 1 - 3 / 4 = 0.25; a loss above the first clips to 0; first <= 0 -> 0.
    assert loss_status(3., 4.) == pytest.approx(0.25)
    assert loss_status(5., 4.) == 0.0
    assert loss_status(1., 0.) == 0.0
    # (iter + 1) / warmup: 0.25 ... 1 then 1; no warm-up -> 1.
    assert [warmup_scale(i, 4) for i in range(6)] == [.25, .5, .75, 1, 1, 1]
    assert warmup_scale(0, 0) == 1.0


def test_warmup_scales_distillation():
    runner = Runner(FakeDistiller())
    hook = HOOKS.build(dict(type='dkd_mm.DKDTeacherHook', warmup_iters=4))
    assert isinstance(hook, DKDTeacherHook)
    scales = [_step(hook, runner, i)[1] for i in range(5)]
    assert scales == [0.25, 0.5, 0.75, 1.0, 1.0]


def _schedulers(*cfgs, epochs_of=None):
    """mmengine's param schedulers, built as a Runner builds them."""
    from mmdet.engine.schedulers import QuadraticWarmupLR
    from mmengine.optim.scheduler import (ConstantLR, CosineAnnealingLR,
                                          LinearLR, MultiStepLR,
                                          MultiStepMomentum, StepLR)
    kinds = dict(
        LinearLR=LinearLR,
        MultiStepLR=MultiStepLR,
        StepLR=StepLR,
        CosineAnnealingLR=CosineAnnealingLR,
        MultiStepMomentum=MultiStepMomentum,
        ConstantLR=ConstantLR,
        QuadraticWarmupLR=QuadraticWarmupLR)
    optim = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    cfgs = [dict(c) for c in cfgs]
    return [kinds[c.pop('type')](optim, **c) for c in cfgs]


def test_lr_warmup_iters_reads_the_schedule():
    warm = dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0)
    steps = dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=600,
        milestones=[450, 540])
    # The project's synthetic schedule: warm-up over 50, steps after.
    assert lr_warmup_iters(_schedulers(dict(warm, end=50), steps), 7) == 50
    # mmdet's 1x: warm-up over 500 iterations of an epoch-based run.
    assert lr_warmup_iters(_schedulers(dict(warm, end=500), steps), 9) == 500
    # Counted in epochs (not converted): 2 epochs of 7 iterations = 14.
    by_epoch = dict(warm, by_epoch=True, end=2)
    assert lr_warmup_iters(_schedulers(by_epoch), 7) == 14
    # mmdet's YOLOX-style quadratic warm-up, found by its name; one list
    # per optimizer: the longest.
    quad = dict(type='QuadraticWarmupLR', by_epoch=False, begin=0, end=30)
    assert lr_warmup_iters(
        dict(a=_schedulers(quad), b=_schedulers(dict(warm, end=20))), 1) == 30
    # mmdet's FCOS 1x: a third of the rate for the first 500 iterations.
    fcos = dict(
        type='ConstantLR', factor=1 / 3, by_epoch=False, begin=0, end=500)
    assert lr_warmup_iters(_schedulers(fcos, steps), 7) == 500
    # No warm-up: a decaying linear ramp, ramps that start later, a
    # constant factor of 1, no scheduler at all.
    decay = dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.1,
        by_epoch=False,
        begin=0,
        end=100)
    late = dict(warm, begin=100, end=150)
    late_fcos = dict(fcos, begin=10)
    unit = dict(fcos, factor=1.0)
    assert lr_warmup_iters(
        _schedulers(decay, late, late_fcos, unit, steps), 7) == 0
    assert lr_warmup_iters(None, 7) == lr_warmup_iters([], 7) == 0


def test_warmup_follows_the_learning_rate():
    runner = Runner(FakeDistiller())
    runner.param_schedulers = _schedulers(
        dict(
            type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4))
    runner.train_dataloader = [None] * 3
    hook = DKDTeacherHook(warmup_iters='lr')
    with mock.patch(LOG) as log:
        hook.before_train(runner)
    assert any(
        'warms up over the learning rate\'s warm-up, 4 iterations' in str(c)
        for c in log.call_args_list)
    scales = [_step(hook, runner, i)[1] for i in range(5)]
    assert scales == [0.25, 0.5, 0.75, 1.0, 1.0]
    # Without a learning-rate warm-up, full weight from the first step.
    runner.param_schedulers = []
    hook.before_train(runner)
    assert _step(hook, runner, 0)[1] == 1.0
    with pytest.raises(ValueError, match="or 'lr'"):
        DKDTeacherHook(warmup_iters='auto')


def test_lr_first_drop_reads_the_schedule():
    warm = dict(
        type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50)
    steps = dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=400,
        milestones=[360, 300])
    # The project's synthetic schedule: drops at 300 and 360 of 400.
    assert lr_first_drop(_schedulers(warm, steps), 7) == 300
    # A DOTA 1x counted in epochs: drops at epochs 8 and 11, 5 iterations
    # an epoch; a milestone counts from its scheduler's begin.
    epochs = dict(steps, by_epoch=True, end=12, milestones=[8, 11])
    assert lr_first_drop(_schedulers(epochs), 5) == 40
    assert lr_first_drop(_schedulers(dict(steps, begin=20)), 7) == 320
    # StepLR every 30 iterations; per optimizer: the earliest.
    step = dict(type='StepLR', step_size=30, by_epoch=False, begin=0)
    assert lr_first_drop(dict(a=_schedulers(steps), b=_schedulers(step)),
                         1) == 30
    # No drop in steps: a cosine decay, a momentum schedule, nothing.
    cosine = dict(type='CosineAnnealingLR', T_max=400, by_epoch=False)
    momentum = dict(steps, type='MultiStepMomentum')
    assert lr_first_drop(_schedulers(warm, cosine, momentum), 7) is None
    assert lr_first_drop(None, 7) is None


def test_status_reaches_one_at_the_first_lr_drop():
    runner = Runner(FakeDistiller(), max_iters=400)
    runner.param_schedulers = _schedulers(
        dict(
            type='MultiStepLR',
            by_epoch=False,
            begin=0,
            end=400,
            milestones=[300, 360]))
    runner.train_dataloader = [None] * 3
    hook = DKDTeacherHook()  # status_end='lr' by default
    # Before training starts, the end of training (as status_end=1).
    assert _step(hook, runner, 200)[0] == pytest.approx(0.5)
    with mock.patch(LOG) as log:
        hook.before_train(runner)
    assert any('iteration 300 (0.75 of training)' in str(c)
               for c in log.call_args_list)
    # 150 / 300 = 0.5; 1 from the drop on.
    assert _step(hook, runner, 150)[0] == pytest.approx(0.5)
    assert _step(hook, runner, 299)[0] == pytest.approx(299 / 300)
    assert _step(hook, runner, 300)[0] == 1.0
    # A cosine schedule has no drop: the end, as before.
    runner.param_schedulers = _schedulers(
        dict(type='CosineAnnealingLR', T_max=400, by_epoch=False))
    hook.before_train(runner)
    assert _step(hook, runner, 200)[0] == pytest.approx(0.5)
    # A fixed fraction ignores the schedule.
    fixed = DKDTeacherHook(status_end=0.5)
    fixed.before_train(runner)
    assert _step(fixed, runner, 100)[0] == pytest.approx(0.5)
    for bad in (0, 1.5, 'auto'):
        with pytest.raises(ValueError, match="status_end must be"):
            DKDTeacherHook(status_end=bad)


def test_stop_distill_iter_and_epoch():
    runner = Runner(FakeDistiller())
    hook = DKDTeacherHook(warmup_iters=2, stop_distill_iter=3)
    scales = [_step(hook, runner, i)[1] for i in range(5)]
    assert scales == [0.5, 1.0, 1.0, 0.0, 0.0]

    hook = DKDTeacherHook(stop_distill_epoch=2)
    assert _step(hook, runner, 10, epoch=1)[1] == 1.0
    assert _step(hook, runner, 11, epoch=2)[1] == 0.0
    assert _step(hook, runner, 12, epoch=3)[1] == 0.0


def test_iter_status_is_published():
    # iter 25 of 100 with gamma 2: (0.25) ** 2 = 0.0625, readable by TSA and
    # ISD through current_train_status().
    runner = Runner(FakeDistiller(), max_iters=100)
    hook = DKDTeacherHook(status_mode='iter', status_gamma=2.)
    assert _step(hook, runner, 25)[0] == pytest.approx(0.0625)
    assert current_train_status() == pytest.approx(0.0625)
    assert _step(hook, runner, 0)[0] == 0.0
    assert _step(hook, runner, 100)[0] == 1.0


def test_loss_status_ema():
    # momentum 0.5, losses 4, 2, 2, 8 (psi is published before each step):
    #   iter 0: no loss yet -> psi 0;   then EMA = first = 4
    #   iter 1: 1 - 4 / 4 = 0;           then EMA = 0.5 * 4 + 0.5 * 2 = 3
    #   iter 2: 1 - 3 / 4 = 0.25;        then EMA = 0.5 * 3 + 0.5 * 2 = 2.5
    #   iter 3: 1 - 2.5 / 4 = 0.375;     then EMA = 0.5 * 2.5 + 0.5 * 8 = 5.25
    #   iter 4: 1 - 5.25 / 4 < 0 -> 0
    runner = Runner(FakeDistiller())
    hook = DKDTeacherHook(status_mode='loss', ema_momentum=0.5)
    psis = [
        _step(hook, runner, i, loss)[0]
        for i, loss in enumerate([4., 2., 2., 8., 1.])
    ]
    assert psis == pytest.approx([0., 0., 0.25, 0.375, 0.])


def test_loss_status_ignores_missing_key_and_waits_for_positive_loss():
    runner = Runner(FakeDistiller())
    hook = DKDTeacherHook(status_mode='loss', ema_momentum=0.5)
    hook.after_train_iter(runner, 0, outputs=dict(loss_cls=torch.tensor(1.)))
    hook.after_train_iter(runner, 0, outputs=None)
    assert _step(hook, runner, 1)[0] == 0.0
    # A first batch without positives (loss_bbox = 0) is no reference:
    # the EMA starts at 4, then 0.5 * 4 + 0.5 * 2 = 3 -> psi 0.25.
    for i, loss in enumerate([0., 4., 2.]):
        _step(hook, runner, 2 + i, loss)
    assert _step(hook, runner, 5)[0] == pytest.approx(0.25)


def test_invalid_status_mode():
    with pytest.raises(ValueError, match='status_mode'):
        DKDTeacherHook(status_mode='epoch')


def test_before_train_refuses_unfrozen_teacher_and_non_distillers():
    hook = DKDTeacherHook()
    model = FakeDistiller()
    model.teacher.weight.requires_grad_(True)
    with pytest.raises(RuntimeError, match='not frozen'):
        hook.before_train(Runner(model))
    model = FakeDistiller()
    model.teacher.train()
    with pytest.raises(RuntimeError, match='training=True'):
        hook.before_train(Runner(model))
    with pytest.raises(TypeError, match='DKDDistiller'):
        hook.before_train(Runner(nn.Linear(2, 2)))
    with pytest.raises(TypeError, match='DKDDistiller'):
        hook.before_train_iter(Runner(nn.Linear(2, 2)), 0)


def test_before_train_logs_checkpoint_and_checksum(tmp_path):
    path = tmp_path / 'teacher.pth'
    path.write_bytes(b'teacher weights')
    digest = hashlib.sha256(b'teacher weights').hexdigest()[:12]
    with mock.patch(LOG) as log:
        DKDTeacherHook().before_train(Runner(FakeDistiller(str(path))))
    assert any(
        str(path) in c.args[0] and digest in c.args[0]
        for c in log.call_args_list)
    # Without a checkpoint the hook warns instead.
    with mock.patch(LOG) as log:
        DKDTeacherHook().before_train(Runner(FakeDistiller()))
    assert any('random weights' in c.args[0] for c in log.call_args_list)


def test_unwraps_model_wrappers():
    model = FakeDistiller()
    runner = Runner(nn.DataParallel(model))
    hook = DKDTeacherHook(warmup_iters=2)
    with mock.patch(LOG):
        hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    assert model.distill_scale == 0.5


class Loader(list):

    def __init__(self, batches, dataset_len) -> None:
        super().__init__(batches)
        self.dataset = [None] * dataset_len


def test_evaluate_teacher_with_fake_loader_and_evaluator():
    # Two batches of one image; the preprocessor doubles the inputs, the
    # teacher sums them: 2 * (1 + 1) = 4 and 2 * (3 + 3) = 12.
    batches = [
        dict(inputs=torch.full((1, 2), float(v)), data_samples=[dict(id=v)])
        for v in (1, 3)
    ]
    runner = Runner(FakeDistiller())
    runner.val_dataloader = Loader(batches, dataset_len=2)
    runner.val_evaluator = mock.MagicMock()
    runner.val_evaluator.evaluate.return_value = {'mAP': 0.5}
    hook = DKDTeacherHook(eval_teacher=True)
    with mock.patch(LOG) as log:
        hook.before_train(runner)
    calls = runner.val_evaluator.process.call_args_list
    assert [c.kwargs['data_samples']
            for c in calls] == [[dict(id=1, pred=4.)], [dict(id=3, pred=12.)]]
    assert [c.kwargs['data_batch'] for c in calls] == batches
    runner.val_evaluator.evaluate.assert_called_once_with(2)
    assert "{'mAP': 0.5}" in log.call_args_list[-1].args[0]


def test_with_a_real_distiller(tmp_path):
    # The FitNet config's model (ResNet-50 -> ResNet-18 rotated RetinaNet)
    # with a random teacher: frozen by the distiller, accepted by the hook.
    from dkd_mm.testing import get_model_cfg
    cfg = get_model_cfg(
        'rotated_retinanet/fitnet_rotated-retinanet_r50-r18_synthetic.py')
    cfg.type = 'dkd_mm.DKDDistiller'
    cfg.teacher_ckpt = None
    model = MODELS.build(cfg)
    model.train()
    runner = Runner(model, max_iters=10)
    hook = DKDTeacherHook(warmup_iters=4, stop_distill_iter=8)
    with mock.patch(LOG):
        hook.before_train(runner)
    assert _step(hook, runner, 1)[1] == 0.5
    assert _step(hook, runner, 8)[1] == 0.0
    # A teacher checkpoint on disk is logged with its checksum.
    path = tmp_path / 'teacher.pth'
    torch.save(model.teacher.state_dict(), path)
    model.teacher_ckpt = str(path)
    with mock.patch(LOG) as log:
        hook.before_train(runner)
    assert any('sha256' in c.args[0] for c in log.call_args_list)
    # One trainable teacher parameter is refused.
    next(model.teacher.parameters()).requires_grad_(True)
    with pytest.raises(RuntimeError, match='not frozen'):
        hook.before_train(runner)


def test_loss_status_ema_is_checkpointed_and_resumed(tmp_path):
    # Same losses as test_loss_status_ema (momentum 0.5): after 4, 2, 2 the
    # EMA is 2.5 and the first value 4.  A checkpoint written then and read
    # back by a new hook (as --resume does, through torch.save/load with
    # weights_only) continues with psi 1 - 2.5 / 4 = 0.375 at iteration 3,
    # then 1 - (0.5 * 2.5 + 0.5 * 1) / 4 = 0.5625 at iteration 4, as the
    # uninterrupted hook does.
    runner = Runner(FakeDistiller())
    hook = DKDTeacherHook(status_mode='loss', ema_momentum=0.5)
    for i, loss in enumerate([4., 2., 2.]):
        _step(hook, runner, i, loss)
    checkpoint = dict(meta=dict(iter=3))
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['dkd_teacher_hook'] == dict(ema=2.5, first=4.)
    torch.save(checkpoint, tmp_path / 'iter_3.pth')

    resumed = DKDTeacherHook(status_mode='loss', ema_momentum=0.5)
    resumed.after_load_checkpoint(
        runner, torch.load(tmp_path / 'iter_3.pth', weights_only=True))
    runner.iter = 3  # the runner resumes at the saved iteration
    with mock.patch(LOG):
        resumed.before_train(runner)
    for name, h in (('uninterrupted', hook), ('resumed', resumed)):
        psis = [_step(h, runner, i, loss)[0] for i, loss in ((3, 1.), (4, 1.))]
        assert psis == pytest.approx([0.375, 0.5625]), name
        # psi is logged too, beside distill_scale
        assert runner.message_hub.get_scalar(
            'train/train_status').current() == pytest.approx(0.5625)


def test_new_run_or_old_checkpoint_starts_the_ema_afresh():
    runner = Runner(FakeDistiller())
    hook = DKDTeacherHook(status_mode='loss', ema_momentum=0.5)
    # load_from of a checkpoint with an EMA: the run starts at iteration 0,
    # so psi does not continue the other run's EMA.
    hook.after_load_checkpoint(runner,
                               dict(dkd_teacher_hook=dict(ema=1., first=4.)))
    assert (hook._ema, hook._first) == (1., 4.)
    with mock.patch(LOG):
        hook.before_train(runner)
    assert (hook._ema, hook._first) == (None, None)
    # A checkpoint without the hook's state (an older run) changes nothing.
    hook.after_load_checkpoint(runner, dict(meta=dict(iter=5)))
    assert (hook._ema, hook._first) == (None, None)
    # An 'iter' mode run saves an empty state, which restores as empty.
    checkpoint = {}
    DKDTeacherHook().before_save_checkpoint(runner, checkpoint)
    assert checkpoint['dkd_teacher_hook'] == dict(ema=None, first=None)
