"""Loading checkpoints, local or downloaded, as untrusted input.

A checkpoint URL is downloaded once into torch.hub's cache
(``$TORCH_HOME/hub/checkpoints``, the cache mmengine's ``load_from_http``
uses too) and then loaded exactly like a local file.  mmengine 0.10.7's
``load_from_http`` is not used to load it: it calls
``torch.hub.load_state_dict_from_url``, whose ``weights_only`` defaults to
False (torch 2.13), so a downloaded pickle could run code.
"""
import os
import os.path as osp
import pickle
from typing import Optional
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log
from torch.hub import HASH_REGEX, download_url_to_file, get_dir

URL_SCHEMES = ('http', 'https')


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint whose unpickling would import or call arbitrary code."""


class CheckpointDownloadError(OSError):
    """A checkpoint URL that could not be downloaded into the cache."""


def is_url(path: str) -> bool:
    """Whether ``path`` is an http(s) URL rather than a local path."""
    return urlparse(path).scheme in URL_SCHEMES


def checkpoint_file(path: str, cache_dir: Optional[str] = None) -> str:
    """The local file that holds the checkpoint ``path`` names.

    Args:
        path (str): A local path or an http(s) URL.
        cache_dir (str, optional): Download cache. Defaults to
            ``<torch.hub.get_dir()>/checkpoints``, i.e.
            ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/...``).

    Returns:
        str: ``path`` itself, or where a URL's file is (or will be) cached:
        the last component of the URL's path in ``cache_dir``.

    Raises:
        ValueError: For a URL of another scheme (``s3://``, ...), or one
            whose path names no file.
    """
    scheme = urlparse(path).scheme
    if scheme not in URL_SCHEMES:
        if '://' in path:
            raise ValueError(
                f'checkpoint {path!r}: only local files and http(s) URLs '
                f'are supported, not {scheme}://')
        return path
    name = osp.basename(urlparse(path).path)
    if not name:
        raise ValueError(f'checkpoint URL {path!r} names no file')
    if cache_dir is None:
        cache_dir = osp.join(get_dir(), 'checkpoints')
    return osp.join(cache_dir, name)


def _download(url: str, dst: str, check_hash: bool, progress: bool) -> None:
    """Download ``url`` to ``dst`` unless it is there already."""
    if osp.isfile(dst):
        print_log(f'checkpoint {url} already downloaded: {dst}', 'current')
        return
    hash_prefix = None
    if check_hash:
        match = HASH_REGEX.search(osp.basename(dst))
        if match is None or not match.group(1):
            raise ValueError(
                f'check_hash: the file name of {url!r} carries no sha256 '
                'prefix (expected NAME-<hex digits>.pth)')
        hash_prefix = match.group(1)
    print_log(f'downloading checkpoint {url} to {dst}', 'current')
    try:
        os.makedirs(osp.dirname(dst), exist_ok=True)
        # Written to a temporary file, moved to dst only when complete.
        download_url_to_file(url, dst, hash_prefix, progress=progress)
    except Exception as exc:  # URLError, HTTPError, hash mismatch, ...
        raise CheckpointDownloadError(
            f'could not download checkpoint {url!r} to {dst!r}: {exc}. '
            'Check the URL and the network, or download the file yourself '
            'and pass its local path.') from exc


def download_checkpoint(url: str,
                        cache_dir: Optional[str] = None,
                        check_hash: bool = False,
                        progress: bool = True) -> str:
    """Download a checkpoint URL once into the cache; nothing is unpickled.

    In a distributed run rank 0 downloads first and the other ranks wait,
    then use its file (or download their own where the cache is not
    shared).

    Args:
        url (str): An http(s) URL, e.g. a link of mmrotate's model zoo.
        cache_dir (str, optional): See :func:`checkpoint_file`.
        check_hash (bool): Check that the file's sha256 starts with the hex
            digits of its name (``NAME-<sha256 prefix>.pth``, as in
            OpenMMLab's model zoo), as ``torch.hub`` does. Defaults to False.
        progress (bool): Show a progress bar on stderr. Defaults to True.

    Returns:
        str: The cached file.

    Raises:
        CheckpointDownloadError: If the download fails (the message names
            the URL and the cache file) or the hash does not match.
        ValueError: If ``url`` is not an http(s) URL naming a file, or
            ``check_hash`` is set and the name carries no hash.
    """
    dst = checkpoint_file(url, cache_dir)
    if dst == url:
        raise ValueError(f'{url!r} is not an http(s) URL')
    rank, world_size = get_dist_info()
    error = None
    if rank == 0:
        try:
            _download(url, dst, check_hash, progress)
        except (CheckpointDownloadError, ValueError) as exc:
            error = exc  # raised after the barrier, so no rank waits on it
    if world_size > 1:
        barrier()
        if rank > 0:
            _download(url, dst, check_hash, progress)
    if error is not None:
        raise error
    return dst


def load_checkpoint_safely(path: str,
                           map_location: str = 'cpu',
                           check_hash: bool = False) -> dict:
    """Load a checkpoint with ``torch.load(weights_only=True)``.

    Only tensors, plain containers and the mmengine globals allowed by
    :mod:`dkd_mm.compat` are unpickled; anything else is refused before any
    of its code runs.  A URL is first downloaded by
    :func:`download_checkpoint`, then loaded as its cached file.

    Args:
        path (str): Local checkpoint file, or an http(s) URL.
        map_location (str): Passed to ``torch.load``. Defaults to 'cpu'.
        check_hash (bool): For a URL, see :func:`download_checkpoint`.
            Defaults to False.

    Returns:
        dict: The checkpoint (a state dict, or a dict with ``state_dict``).

    Raises:
        FileNotFoundError: If ``path`` is not a file.
        CheckpointDownloadError: If a URL cannot be downloaded.
        UnsafeCheckpointError: If the file holds globals outside the
            allow-list (e.g. a pickle built to run code).
    """
    if is_url(path):
        file = download_checkpoint(path, check_hash=check_hash)
        name = f'{path!r} (downloaded to {file!r})'
    else:
        file = checkpoint_file(path)  # refuses other schemes
        name = repr(path)
    if not osp.isfile(file):
        raise FileNotFoundError(f'checkpoint file not found: {path!r}')
    try:
        ckpt = torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeCheckpointError(
            f'refusing to load {name}: it holds Python objects that '
            'weights_only unpickling does not allow, and unpickling them '
            'could run arbitrary code. Only load checkpoints you trust; a '
            'plain state_dict (tensors only) always loads. Details: '
            f'{str(exc).splitlines()[0]}') from None
    if not isinstance(ckpt, dict):
        raise TypeError(
            f'checkpoint {name} holds a {type(ckpt).__name__}, '
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
        src (str): A DKDDistiller checkpoint (from an mmengine run), a
            local path or an http(s) URL.
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
    out_meta['extracted_from'] = src if is_url(src) else osp.abspath(src)
    torch.save({'state_dict': student, 'meta': out_meta}, dst)
    return len(student)
