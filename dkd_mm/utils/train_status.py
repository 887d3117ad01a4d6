"""The two values the teacher hook passes to the model during training.

This is the one place that documents them; elsewhere a one-line reference
points here.

Training status ``psi`` (a side channel through mmengine's MessageHub):

* ``DKDTeacherHook.before_train_iter`` computes ``psi`` in ``[0, 1]``
  (``min(1, iter / (end * max_iters)) ** gamma``, ``end`` the first
  learning-rate drop by default, or ``1 - EMA(loss) / its first value`` in
  'loss' mode) and publishes it as runtime info ``'dkd/train_status'``
  (:data:`TRAIN_STATUS_KEY`) in the runner's message hub;
* :func:`current_train_status` reads it back from the current hub (else
  ``iter / max_iters``, else 0): ``TSALoss``, a head's box loss that the
  distiller never calls, reads it on every call; the distillation losses
  (ISD) receive it as ``DistillContext.train_status``, read once a step.

A side channel because a head's loss has no other path from the runner.

Distillation scale ``distill_scale`` (an attribute of the model):

* ``DKDTeacherHook.before_train_iter`` sets ``DKDDistiller.distill_scale``
  (a linear warm-up over ``warmup_iters``, 0 from ``stop_distill_iter`` /
  ``stop_distill_epoch``; 1.0 without the hook) and logs it as
  ``train/distill_scale``;
* ``DKDDistiller.loss`` multiplies every distillation term by it, and at
  0 skips the teacher's pass and the distillation losses altogether.
"""
from mmengine.logging import MessageHub

TRAIN_STATUS_KEY = 'dkd/train_status'


def current_train_status(key: str = TRAIN_STATUS_KEY) -> float:
    """The training status ``psi`` published in mmengine's message hub.

    Reads ``key`` from the current ``MessageHub``'s runtime info (the
    teacher hook publishes it every iteration); if absent, falls back to
    ``iter / max_iters``, which mmengine's ``RuntimeInfoHook`` publishes
    (``iter`` is the number of finished iterations); if that is absent too
    (e.g. outside a runner), returns 0.

    Args:
        key (str): Runtime-info key of the status.
            Defaults to 'dkd/train_status'.

    Returns:
        float: ``psi`` clamped to ``[0, 1]``.
    """
    hub = MessageHub.get_current_instance()
    psi = hub.get_info(key)
    if psi is None:
        cur_iter, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
        if cur_iter is None or not max_iters:
            return 0.0
        psi = cur_iter / max_iters
    return min(max(float(psi), 0.0), 1.0)
