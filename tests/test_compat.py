"""dkd_mm.compat: the restricted ``getattr`` of the checkpoint allow-list."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

import dkd_mm  # noqa: F401  (applies the shims)
from dkd_mm.compat import history_buffer_getattr


class _GetattrCall:
    """Pickles as ``getattr(obj, name)``, called with ``args`` by the outer
    reduce (``builtins.getattr`` is what a HistoryBuffer pickle holds)."""

    def __init__(self, obj, name: str) -> None:
        self.obj, self.name = obj, name

    def __call__(self, *args):
        return getattr(self.obj, self.name)(*args)

    def __reduce__(self):
        return getattr, (self.obj, self.name)


class _Payload:
    """Unpickles as ``getattr(obj, name)(*args)``."""

    def __init__(self, obj, name: str, *args) -> None:
        self.call, self.args = _GetattrCall(obj, name), args

    def __reduce__(self):
        return self.call, self.args


def test_runner_checkpoint_globals_load_with_weights_only(tmp_path):
    # A message hub's HistoryBuffer pickles getattr(HistoryBuffer, 'mean')
    # for its statistics methods: allowed, and the buffer comes back.
    buffer = HistoryBuffer([1., 2., 3.], [1, 1, 1])
    torch.save(dict(buffer=buffer, array=np.arange(3.)), tmp_path / 'c.pth')
    loaded = torch.load(tmp_path / 'c.pth', weights_only=True)
    assert loaded['buffer'].mean() == 2.
    np.testing.assert_array_equal(loaded['array'], np.arange(3.))
    assert history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean


@pytest.mark.parametrize(
    'obj, name',
    [
        (HistoryBuffer, '__init__'),  # a HistoryBuffer name, not a statistic
        (HistoryBuffer, 'update'),
        (HistoryBuffer, '__class__'),
        (np.ndarray, 'mean'),  # a statistic's name on another allowed class
    ])
def test_restricted_getattr_refuses_other_names(obj, name):
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        history_buffer_getattr(obj, name)


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    # Built only from allowed globals (an ndarray and builtins.getattr), this
    # pickle would call array.tofile(target), writing a file: the restricted
    # getattr refuses it, so torch.load fails and nothing is written.
    target = tmp_path / 'written_by_the_payload'
    path = tmp_path / 'evil.pth'
    torch.save(dict(x=_Payload(np.arange(3.), 'tofile', str(target))), path)
    with pytest.raises(
            pickle.UnpicklingError, match='is not allowed in a '
            'checkpoint'):
        torch.load(path, weights_only=True)
    assert not target.exists()
    # The same file without the restriction does run the payload: the test
    # would notice a payload that no longer works.
    torch.load(path, weights_only=False)
    assert target.exists()
