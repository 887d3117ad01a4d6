"""A DKD training killed with SIGKILL after a checkpoint, then --resume'd,
continues exactly as an uninterrupted run with the same seed: the same
losses, the same training status psi (the teacher hook's loss-mode EMA is
in the checkpoint), the same hook state at the end."""
import glob
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

import dkd_mm  # noqa: F401  (the allow-list for the run's checkpoints)
from .conftest import ROOT, run_tool, tiny_options

DKD = 'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py'
MAX_ITERS = 3


def _options(tiny_data: str, teacher_ckpt: str) -> list:
    return ['--cfg-options'] + tiny_options(tiny_data, MAX_ITERS) + [
        'train_cfg.val_interval=100',
        'train_cfg.val_begin=100',  # no validation after the last iteration
        f'model.teacher_ckpt={teacher_ckpt}',
        'randomness.seed=0',
        'randomness.deterministic=True',
        # logged values of each iteration, not means over a window
        'log_processor.window_size=1',
        # psi from the EMA of loss_bbox, which a restart would reset
        'custom_hooks.0.status_mode=loss',
        'custom_hooks.0.ema_momentum=0.5',
        'custom_hooks.0.warmup_iters=2',
        # the tiny images' own 128 px
        'train_dataloader.dataset.pipeline.3.scale=(128,128)',
    ]


def _scalars(work_dir: str) -> list:
    """Per run (timestamped folder) in ``work_dir``: iteration -> logged
    losses, psi, distillation scale and learning rate."""
    runs = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        rows = {}
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'loss' not in row:  # a validation's metrics
                    continue
                rows[row['step']] = {
                    k: v
                    for k, v in row.items()
                    if k.startswith('loss') or k in ('train_status',
                                                     'distill_scale', 'lr')
                }
        runs.append(rows)
    return runs


def _names_a_checkpoint(path: str) -> bool:
    if not osp.isfile(path):
        return False
    with open(path) as f:
        return f.read().strip().endswith('.pth')


def _train_until_killed(args: list, work_dir: str) -> None:
    """Start a training and SIGKILL it once its first checkpoint is
    complete (CheckpointHook names it in last_checkpoint after saving)."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='2')
    last = osp.join(work_dir, 'last_checkpoint')
    with open(osp.join(work_dir, 'killed.log'), 'w') as log:
        proc = subprocess.Popen(
            [sys.executable] + args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 600
            while not _names_a_checkpoint(last) and proc.poll() is None:
                assert time.time() < deadline, 'no checkpoint in 600 s'
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
    with open(osp.join(work_dir, 'killed.log')) as f:
        output = f.read()
    assert proc.returncode == -signal.SIGKILL, output[-4000:]
    assert not osp.isfile(osp.join(work_dir, f'iter_{MAX_ITERS}.pth'))


@pytest.mark.slow
def test_resume_after_sigkill_matches_an_uninterrupted_run(
        tiny_data, teacher_ckpt, tmp_path):
    options = _options(tiny_data, teacher_ckpt)
    reference = str(tmp_path / 'reference')
    run_tool(['tools/train.py', DKD, '--work-dir', reference] + options)

    killed = str(tmp_path / 'killed')
    os.makedirs(killed)
    _train_until_killed(['tools/train.py', DKD, '--work-dir', killed] +
                        options, killed)
    with open(osp.join(killed, 'last_checkpoint')) as f:
        before = torch.load(f.read().strip())['optimizer']['state']
    log = run_tool(['tools/train.py', DKD, '--work-dir', killed, '--resume'] +
                   options)
    resumed_at = int(log.split('resumed epoch: 0, iter: ')[1].split()[0])
    assert 1 <= resumed_at < MAX_ITERS
    assert 'sha256' in log  # the teacher was reloaded from teacher_ckpt
    # The optimizer's state (AdamW moments) was restored and kept moving.
    after = torch.load(osp.join(killed, f'iter_{MAX_ITERS}.pth'))
    assert before.keys() == after['optimizer']['state'].keys()
    assert len(before) > 0

    (expected, ), runs = _scalars(reference), _scalars(killed)
    assert sorted(expected) == list(range(1, MAX_ITERS + 1))
    assert 'train_status' in expected[1] and 'loss_isd_feat' in expected[1]
    # The resumed run logs the iterations after its checkpoint, each as
    # the uninterrupted run did; so does the killed run before them.
    assert sorted(runs[-1]) == list(range(resumed_at + 1, MAX_ITERS + 1))
    for rows in runs:
        for step, row in rows.items():
            assert row == expected[step], (step, row, expected[step])
    state = [
        torch.load(osp.join(d, f'iter_{MAX_ITERS}.pth'))['dkd_teacher_hook']
        for d in (reference, killed)
    ]
    assert state[0] == state[1] and state[0]['first'] > 0
