"""Distributed launch on machines without CUDA."""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config

_UPSTREAM_WRAPPERS = (None, 'MMDistributedDataParallel',
                      'mmengine.MMDistributedDataParallel')


def prepare_distributed(cfg: Config) -> None:
    """Make a distributed config runnable on CPU; leave CUDA runs as they are.

    mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` and its
    Runner hands ``device_ids`` to DDP, both of which fail without CUDA.  On
    such a machine this initialises the gloo process group itself (mmengine
    then skips ``init_dist``) and selects :class:`DKDDistributedDataParallel`.

    Args:
        cfg (Config): The run's config, with ``launcher`` set.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    if cfg.launcher != 'pytorch':
        raise RuntimeError(f'launcher={cfg.launcher!r} needs CUDA; on a CPU '
                           'machine use tools/dist_train.sh (pytorch).')
    env_cfg = dict(cfg.get('env_cfg') or {})
    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg') or {}, backend='gloo')
    cfg.env_cfg = env_cfg
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    wrapper = cfg.get('model_wrapper_cfg') or {}
    if wrapper.get('type') in _UPSTREAM_WRAPPERS:
        wrapper = dict(wrapper)
        wrapper['type'] = 'dkd_mm.DKDDistributedDataParallel'
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters',
                           cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper


def finish_distributed() -> None:
    """Close the process group that a distributed run opened, on every rank.

    Left to the interpreter's exit, gloo's worker threads can be destroyed
    while still joinable (``terminate called without an active exception``,
    SIGABRT), which turns a finished run into a failed launch.  The barrier
    lets every rank finish its last collective before any rank closes.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
