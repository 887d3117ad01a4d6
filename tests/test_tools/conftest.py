"""Shared fixtures for end-to-end runs of tools/ (subprocesses, tiny data)."""
import os
import os.path as osp
import subprocess
import sys
from typing import List

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def tiny_options(data_root: str, max_iters: int) -> List[str]:
    """--cfg-options that shrink a synthetic-data config to a few seconds."""
    return [
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1',
        'default_hooks.visualization.draw=False',
        'train_dataloader.batch_size=2',
        'model_wrapper_cfg=None',
    ] + [
        f'{loader}.{key}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for key in (f'dataset.data_root={data_root}/', 'num_workers=0',
                    'persistent_workers=False')
    ]


def run_tool(args: List[str], timeout: int = 600) -> str:
    """Run a python tool of the repo; fail with its output on error."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')
    proc = subprocess.run(
        [sys.executable] + args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{args} failed:\n{output[-6000:]}'
    return output


@pytest.fixture(scope='session')
def teacher_ckpt(tiny_data, tmp_path_factory) -> str:
    """A teacher checkpoint written by a real (1 iteration) training run."""
    work_dir = str(tmp_path_factory.mktemp('teacher'))
    run_tool([
        'tools/train.py',
        'configs/rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py',
        '--work-dir', work_dir, '--cfg-options'
    ] + tiny_options(tiny_data, 1) + ['train_cfg.val_interval=100'])
    return osp.join(work_dir, 'iter_1.pth')
