"""dkd_mm.engine.launch: a pytorch launch on a machine without CUDA."""
import socket

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config

from dkd_mm.engine.launch import finish_distributed, prepare_distributed

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason='CUDA runs keep mmengine\'s launch')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_no_launcher_leaves_the_config_alone():
    cfg = Config(dict(launcher='none', model_wrapper_cfg=None))
    prepare_distributed(cfg)
    assert cfg.model_wrapper_cfg is None
    assert 'env_cfg' not in cfg


def test_slurm_on_cpu_is_refused_with_the_way_out():
    with pytest.raises(RuntimeError, match='dist_train.sh'):
        prepare_distributed(Config(dict(launcher='slurm')))


def test_one_rank_gloo_group_opens_and_closes(monkeypatch):
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(_free_port()))
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    cfg = Config(
        dict(
            launcher='pytorch',
            model_wrapper_cfg=dict(type='MMDistributedDataParallel')))
    try:
        prepare_distributed(cfg)
        assert dist.is_initialized()
        assert dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg.type == \
            'dkd_mm.DKDDistributedDataParallel'
        assert cfg.model_wrapper_cfg.broadcast_buffers is False
        finish_distributed()
        assert not dist.is_initialized()
        finish_distributed()  # a second call, or a run without a group
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
