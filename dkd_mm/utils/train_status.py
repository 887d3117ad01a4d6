"""The training status psi shared by the teacher hook, TSA and ISD."""
from mmengine.logging import MessageHub

TRAIN_STATUS_KEY = 'dkd/train_status'


def current_train_status(default: float = 0.0) -> float:
    """psi in [0, 1] published by ``DKDTeacherHook`` in the message hub.

    Args:
        default (float): Returned when no hook published it.
            Defaults to 0.0.
    """
    hub = MessageHub.get_current_instance()
    return float(hub.get_info(TRAIN_STATUS_KEY, default))
