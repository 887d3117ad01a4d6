"""DKDTeacherHook: the teacher's checks, the training status, warm-up, stop."""
import hashlib
import logging
from typing import Iterable, Optional, Union

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim.scheduler import (ConstantParamScheduler,
                                      LinearParamScheduler,
                                      MultiStepParamScheduler,
                                      StepParamScheduler)

from dkd_mm.registry import HOOKS
from dkd_mm.utils.train_status import TRAIN_STATUS_KEY


def iter_status(cur_iter: int,
                max_iters: int,
                gamma: float,
                end: float = 1.0) -> float:
    """psi = min(1, iter / (end * max_iters)) ** gamma, in [0, 1]: 1 from
    the fraction ``end`` of training on."""
    return min(1.0, max(0.0, cur_iter / max(end * max_iters, 1)))**gamma


def loss_status(ema: float, first: float) -> float:
    """psi = clip(1 - EMA(loss) / first EMA value, 0, 1)."""
    if first <= 0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - ema / first))


def warmup_scale(cur_iter: int, warmup_iters: int) -> float:
    """Linear warm-up of the distillation weights: (iter + 1) / warmup."""
    if warmup_iters <= 0:
        return 1.0
    return min(1.0, (cur_iter + 1) / warmup_iters)


def _lr_schedulers(schedulers: Union[dict, Iterable, None]) -> list:
    """The learning-rate schedulers among a runner's built
    ``param_schedulers`` (a list, or a dict of lists per optimizer)."""
    if isinstance(schedulers, dict):
        schedulers = [s for group in schedulers.values() for s in group]
    return [
        s for s in schedulers or () if getattr(s, 'param_name', 'lr') == 'lr'
    ]


def _in_iters(scheduler, step: int, iters_per_epoch: int) -> int:
    """A step of ``scheduler`` in iterations (it may count epochs)."""
    return step * (iters_per_epoch if scheduler.by_epoch else 1)


def lr_warmup_iters(schedulers: Union[dict, Iterable, None],
                    iters_per_epoch: int) -> int:
    """The iterations of a run's learning-rate warm-up: the end of the
    schedulers that start at 0 below the base rate and reach it (mmengine's
    rising ``LinearLR``; a ``ConstantLR`` of factor < 1, mmdet's FCOS
    warm-up; a scheduler whose name says ``Warmup``, e.g. mmdet's
    ``QuadraticWarmupLR``), in iterations; 0 when the schedule has none.

    Args:
        schedulers (dict | list | None): The runner's built
            ``param_schedulers`` (a list, or a dict of lists per optimizer).
        iters_per_epoch (int): Training iterations of an epoch, for a
            scheduler that counts epochs.

    Returns:
        int: The warm-up's last iteration + 1, the longest of several.
    """
    ends = [0]
    for s in _lr_schedulers(schedulers):
        if s.begin != 0:
            continue
        rising = isinstance(s, LinearParamScheduler) and \
            s.start_factor < s.end_factor
        lowered = isinstance(s, ConstantParamScheduler) and s.factor < 1
        if rising or lowered or 'Warmup' in type(s).__name__:
            ends.append(_in_iters(s, s.end, iters_per_epoch))
    return int(max(ends))


def lr_first_drop(schedulers: Union[dict, Iterable, None],
                  iters_per_epoch: int) -> Optional[int]:
    """The iteration of a run's first learning-rate drop: the earliest
    milestone of a ``MultiStepLR`` or step of a ``StepLR`` (each counted
    from its scheduler's ``begin``), in iterations; None when no scheduler
    drops the rate in steps (a cosine or polynomial decay).

    Args:
        schedulers (dict | list | None): The runner's built
            ``param_schedulers``, as :func:`lr_warmup_iters` takes them.
        iters_per_epoch (int): Training iterations of an epoch.

    Returns:
        int | None: The first drop's iteration.
    """
    drops = []
    for s in _lr_schedulers(schedulers):
        if isinstance(s, MultiStepParamScheduler) and s.milestones:
            first = min(s.milestones)
        elif isinstance(s, StepParamScheduler):
            first = s.step_size
        else:
            continue
        drops.append(_in_iters(s, s.begin + first, iters_per_epoch))
    return int(min(drops)) if drops else None


def file_checksum(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()[:12]


@HOOKS.register_module()
class DKDTeacherHook(Hook):
    """Drive a :class:`DKDDistiller` through training.

    * before training: check that the teacher is loaded and frozen, log its
      checkpoint path and sha256 prefix; optionally evaluate the teacher once
      on the val set and log its metrics;
    * each iteration: publish the training status psi under
      ``'dkd/train_status'`` in the message hub (read by TSA and ISD) and
      log it as ``train_status``, and set the distillation scale: linear
      warm-up over ``warmup_iters``, 0 after ``stop_distill_iter`` /
      ``stop_distill_epoch``;
    * checkpoints: the 'loss' mode's EMA and its first value are saved under
      ``'dkd_teacher_hook'`` and restored by ``--resume``, so that psi
      continues where the run stopped.  A run that starts at iteration 0
      (``load_from`` weights) starts its EMA afresh.

    Args:
        status_mode (str): 'iter': psi = (iter / max_iters) ** gamma
            (see ``status_end``);
            'loss': psi = clip(1 - EMA(loss) / its first value, 0, 1) of the
            student's ``status_loss_key``. Defaults to 'iter'.
        status_gamma (float): gamma of the 'iter' mode. Defaults to 1.0.
        status_end (float | str): The fraction of training at which the
            'iter' mode's psi reaches 1: psi = min(1, iter / (status_end *
            max_iters)) ** gamma; or ``'lr'``: at the schedule's first
            learning-rate drop (:func:`lr_first_drop`, read when training
            starts, logged; the end where the rate does not drop in steps),
            so that hard objects get their full weight while the student
            can still move (0.75 in the project's schedules, 8/12 in a
            DOTA 1x; docs/method.md section 4). 1.0 reaches it only at the
            end. Defaults to 'lr'.
        status_loss_key (str): The regression loss of the 'loss' mode.
            Defaults to 'loss_bbox'.
        ema_momentum (float): EMA momentum of the 'loss' mode.
            Defaults to 0.9.
        warmup_iters (int | str): Linear warm-up of all distillation
            weights over this many iterations, or ``'lr'``: over the
            learning rate's warm-up, whatever the schedule makes it
            (:func:`lr_warmup_iters`, read when training starts, logged;
            0 where the schedule has none). Defaults to 0 (none).
        stop_distill_iter (int, optional): Iteration from which distillation
            is off. Defaults to None.
        stop_distill_epoch (int, optional): Epoch from which distillation is
            off. Defaults to None.
        eval_teacher (bool): Evaluate the teacher on the val set before
            training. Defaults to False.
    """

    priority = 'ABOVE_NORMAL'
    checkpoint_key = 'dkd_teacher_hook'

    def __init__(self,
                 status_mode: str = 'iter',
                 status_gamma: float = 1.0,
                 status_end: Union[float, str] = 'lr',
                 status_loss_key: str = 'loss_bbox',
                 ema_momentum: float = 0.9,
                 warmup_iters: Union[int, str] = 0,
                 stop_distill_iter: Optional[int] = None,
                 stop_distill_epoch: Optional[int] = None,
                 eval_teacher: bool = False) -> None:
        if status_mode not in ('iter', 'loss'):
            raise ValueError(f"status_mode must be 'iter' or 'loss', got "
                             f'{status_mode!r}')
        self.status_mode = status_mode
        self.status_gamma = status_gamma
        if status_end != 'lr' and not (isinstance(status_end, (int, float))
                                       and 0 < status_end <= 1):
            raise ValueError(f"status_end must be in (0, 1] or 'lr', got "
                             f'{status_end!r}')
        self.status_end = status_end
        # 'lr': the end until before_train reads the schedule.
        self._status_end = 1.0 if status_end == 'lr' else float(status_end)
        self.status_loss_key = status_loss_key
        self.ema_momentum = ema_momentum
        if isinstance(warmup_iters, str) and warmup_iters != 'lr':
            raise ValueError("warmup_iters must be a number of iterations "
                             f"or 'lr', got {warmup_iters!r}")
        self.warmup_iters = warmup_iters
        self._warmup: int = 0 if warmup_iters == 'lr' else warmup_iters
        self.stop_distill_iter = stop_distill_iter
        self.stop_distill_epoch = stop_distill_epoch
        self.eval_teacher = eval_teacher
        self._ema: Optional[float] = None
        self._first: Optional[float] = None

    @staticmethod
    def _distiller(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'teacher') or not hasattr(
                model, 'distill_scale'):
            raise TypeError('DKDTeacherHook needs a DKDDistiller model, got '
                            f'{type(model).__name__}')
        return model

    def before_train(self, runner) -> None:
        model = self._distiller(runner)
        if runner.iter == 0:  # not a resumed run: no EMA to continue
            self._ema = self._first = None
        trainable = [
            n for n, p in model.teacher.named_parameters() if p.requires_grad
        ]
        if trainable or model.teacher.training:
            raise RuntimeError('the teacher is not frozen: trainable '
                               f'{trainable[:4]}, training='
                               f'{model.teacher.training}')
        if model.teacher_ckpt is None:
            print_log(
                'DKDTeacherHook: the teacher has random weights '
                '(teacher_ckpt=None)', 'current', logging.WARNING)
        else:
            checksum = file_checksum(model.teacher_ckpt)
            print_log(
                f'DKDTeacherHook: teacher {model.teacher_ckpt} '
                f'(sha256 {checksum}), frozen', 'current')
        loader = getattr(runner, 'train_dataloader', None)
        per_epoch = len(loader) if hasattr(loader, '__len__') else 1
        schedulers = getattr(runner, 'param_schedulers', None)
        if self.warmup_iters == 'lr':
            self._warmup = lr_warmup_iters(schedulers, per_epoch)
            print_log(
                f'DKDTeacherHook: distillation warms up over the learning '
                f'rate\'s warm-up, {self._warmup} iterations', 'current')
        if self.status_end == 'lr':
            drop = lr_first_drop(schedulers, per_epoch)
            self._status_end = 1.0 if drop is None else min(
                1.0,
                max(drop, 1) / max(runner.max_iters, 1))
            print_log(
                'DKDTeacherHook: the training status reaches 1 at ' +
                ('the end (no step drop of the learning rate)'
                 if drop is None else f'the first learning-rate drop, '
                 f'iteration {drop} ({self._status_end:.2f} of training)'),
                'current')
        if self.eval_teacher:
            from .teacher_eval import evaluate_teacher
            metrics = evaluate_teacher(runner, model)
            print_log(f'DKDTeacherHook: teacher metrics {metrics}', 'current')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        model = self._distiller(runner)
        if self.status_mode == 'iter':
            psi = iter_status(runner.iter, runner.max_iters, self.status_gamma,
                              self._status_end)
        else:
            psi = 0.0 if self._ema is None else loss_status(
                self._ema, self._first)
        runner.message_hub.update_info(TRAIN_STATUS_KEY, psi)
        runner.message_hub.update_scalar('train/train_status', psi)

        stopped = (self.stop_distill_iter is not None
                   and runner.iter >= self.stop_distill_iter) or (
                       self.stop_distill_epoch is not None
                       and runner.epoch >= self.stop_distill_epoch)
        scale = 0.0 if stopped else warmup_scale(runner.iter, self._warmup)
        model.distill_scale = scale
        runner.message_hub.update_scalar('train/distill_scale', scale)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if self.status_mode != 'loss' or not outputs:
            return
        value = outputs.get(self.status_loss_key)
        if value is None:
            return
        value = float(value)
        # A first batch without positives has a zero regression loss; as
        # the reference it would pin psi to 0 for the whole run, so the EMA
        # starts at the first positive value.
        if self._first is None or not self._first > 0:
            self._ema = self._first = value
        else:
            m = self.ema_momentum
            self._ema = m * self._ema + (1 - m) * value

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Save the 'loss' mode's state: ``{'ema': ..., 'first': ...}``."""
        checkpoint[self.checkpoint_key] = dict(
            ema=self._ema, first=self._first)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the state saved by :meth:`before_save_checkpoint`; a
        checkpoint without it (e.g. an 'iter' mode run's) leaves the EMA
        unset."""
        state = checkpoint.get(self.checkpoint_key)
        if state is not None:
            self._ema, self._first = state['ema'], state['first']
