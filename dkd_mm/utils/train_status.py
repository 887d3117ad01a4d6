"""The training status psi shared by the teacher hook, TSA and ISD."""
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
