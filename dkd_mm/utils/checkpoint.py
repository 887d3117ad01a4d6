"""Loading checkpoints as untrusted input."""
import os.path as osp
import pickle

import torch


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint whose unpickling would import or call arbitrary code."""


def load_checkpoint_safely(path: str, map_location: str = 'cpu') -> dict:
    """Load a checkpoint with ``torch.load(weights_only=True)``.

    Only tensors, plain containers and the mmengine globals allowed by
    :mod:`dkd_mm.compat` are unpickled; anything else is refused before any
    of its code runs.

    Args:
        path (str): Local checkpoint file.
        map_location (str): Passed to ``torch.load``. Defaults to 'cpu'.

    Returns:
        dict: The checkpoint (a state dict, or a dict with ``state_dict``).

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        UnsafeCheckpointError: If the file holds globals outside the
            allow-list (e.g. a pickle built to run code).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path!r}')
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeCheckpointError(
            f'refusing to load {path!r}: it holds Python objects that '
            'weights_only unpickling does not allow, and unpickling them '
            'could run arbitrary code. Only load checkpoints you trust; a '
            'plain state_dict (tensors only) always loads. Details: '
            f'{str(exc).splitlines()[0]}') from None
    if not isinstance(ckpt, dict):
        raise TypeError(
            f'checkpoint {path!r} holds a {type(ckpt).__name__}, '
            'expected a dict (a state_dict or mmengine checkpoint)')
    return ckpt


def _plain(value):
    """Keep only plain data (what ``weights_only`` loading accepts)."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def extract_student(src: str, dst: str) -> int:
    """Write the ``student.`` weights of a distiller checkpoint to ``dst``.

    Args:
        src (str): A DKDDistiller checkpoint (from an mmengine run).
        dst (str): Output path; its ``state_dict`` keys are the student
            detector's own, and ``meta`` keeps ``dataset_meta``.

    Returns:
        int: The number of tensors written.

    Raises:
        KeyError: If ``src`` holds no ``student.`` weights.
    """
    ckpt = load_checkpoint_safely(src)
    state_dict = ckpt.get('state_dict', ckpt)
    student = {
        k[len('student.'):]: v
        for k, v in state_dict.items() if k.startswith('student.')
    }
    if not student:
        raise KeyError(f'{src!r} holds no `student.` weights: is it a '
                       'DKDDistiller checkpoint?')
    meta = ckpt.get('meta', {}) or {}
    out_meta = {
        key: _plain(meta[key])
        for key in ('dataset_meta', 'epoch', 'iter', 'mmengine_version')
        if key in meta
    }
    out_meta['extracted_from'] = osp.abspath(src)
    torch.save({'state_dict': student, 'meta': out_meta}, dst)
    return len(student)
