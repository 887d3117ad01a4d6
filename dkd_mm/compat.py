"""Small shims for dkd_mm's pinned stack, applied once by ``import dkd_mm``.

Nothing here edits an installed package; each shim only adds what is missing.

* ``collections.Sequence``: mmrotate 1.0.0rc1
  (``mmrotate/models/detectors/refine_single_stage.py``) does
  ``from collections import Sequence``, an alias removed in Python 3.10.  It is
  restored as ``collections.abc.Sequence`` only where it is absent, before
  mmrotate is imported.
* ``torch.load``: torch >= 2.6 unpickles with ``weights_only=True`` by default
  and mmengine 0.10.7 does not pass the argument.  Checkpoints written by an
  mmengine runner hold a few plain-data classes besides tensors (the message
  hub's ``HistoryBuffer`` and numpy arrays).  Exactly those globals are added
  to torch's allow-list, so ``--resume`` and teacher loading work while a
  pickle that would run code is still refused.  No ``weights_only=False``.
  ``HistoryBuffer`` pickles its statistics methods as
  ``getattr(HistoryBuffer, 'mean')``; ``builtins.getattr`` is therefore
  allowed only as :func:`history_buffer_getattr`, which resolves exactly
  those names and refuses every other attribute.
"""
import collections
import collections.abc
import pickle

_APPLIED = False


def _alias_collections_abc() -> None:
    if not hasattr(collections, 'Sequence'):
        collections.Sequence = collections.abc.Sequence  # type: ignore


def history_buffer_getattr(obj: object, name: str) -> object:
    """``getattr`` restricted to HistoryBuffer's statistics methods.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed |= set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed and callable(
            vars(HistoryBuffer).get(name)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint')


def mmengine_checkpoint_globals() -> list:
    """The exact non-tensor globals that an mmengine runner checkpoint holds.

    Returns:
        list: classes and functions (or ``(function, name)`` pairs) to allow
        in ``weights_only`` unpickling.
    """
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed = [
        HistoryBuffer,
        (history_buffer_getattr, 'builtins.getattr'),
        np.core.multiarray._reconstruct,
        np.core.multiarray.scalar,
        np.ndarray,
        np.dtype,
    ]
    # numpy >= 1.25 pickles dtypes through their concrete classes.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name)
            for name in ('Float64DType', 'Float32DType', 'Int64DType',
                         'Int32DType', 'BoolDType', 'UInt8DType')
            if hasattr(dtypes, name)
        ]
    return allowed


def _allow_mmengine_checkpoints() -> None:
    import torch.serialization
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:  # torch < 2.4 has no allow-list
        add_safe_globals(mmengine_checkpoint_globals())


def apply() -> None:
    """Apply every shim once; called by ``dkd_mm/__init__.py`` first."""
    global _APPLIED
    if _APPLIED:
        return
    _alias_collections_abc()
    _allow_mmengine_checkpoints()
    _APPLIED = True
