"""tools/train.py, tools/test.py, --resume, dist_train.sh and the student
extraction, each as a user runs them (subprocesses on tiny data)."""
import os.path as osp
import re

import pytest
import torch

import dkd_mm  # noqa: F401  (the allow-list for the run's checkpoints)
from .conftest import ROOT, run_tool, tiny_options

DKD = 'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py'
STUDENT_TSA = ('configs/rotated_retinanet/'
               'rotated-retinanet_r18_fpn_tsa_synthetic.py')


def _iter_lines(log: str) -> list:
    return re.findall(r'Iter\(train\) \[\s*(\d+)/(\d+)\].*', log)


def test_dkd_train_two_iterations_logs_every_loss(tiny_data, teacher_ckpt,
                                                  tmp_path):
    log = run_tool([
        'tools/train.py', DKD, '--work-dir',
        str(tmp_path), '--cfg-options', f'model.teacher_ckpt={teacher_ckpt}'
    ] + tiny_options(tiny_data, 2))
    assert [i for i, _ in _iter_lines(log)] == ['1', '2']
    for key in ('loss_cls', 'loss_bbox', 'loss_global_distill_fg',
                'loss_global_distill_bg', 'loss_global_distill_relation',
                'loss_isd_feat', 'isd_candidates', 'distill_scale'):
        assert f'{key}: ' in log, key
    assert 'sha256' in log  # DKDTeacherHook checked and logged the teacher
    assert 'dota/mAP' in log  # validation ran with mmrotate's metric
    ckpt = torch.load(osp.join(str(tmp_path), 'iter_2.pth'))
    assert not any(k.startswith('teacher.') for k in ckpt['state_dict'])
    assert ckpt['meta']['iter'] == 2


# Resuming the DKD config after a checkpoint (the teacher reloaded, the
# optimizer's state restored, the same losses as an uninterrupted run) is
# tested in test_resume_after_kill.py.
@pytest.mark.slow
def test_resume_from_explicit_checkpoint(tiny_data, tmp_path):
    work_dir = str(tmp_path)
    common = ['tools/train.py', STUDENT_TSA, '--work-dir', work_dir]
    run_tool(common + ['--cfg-options'] + tiny_options(tiny_data, 1) +
             ['train_cfg.val_interval=100'])
    ckpt = osp.join(work_dir, 'iter_1.pth')
    log = run_tool(common + ['--resume', ckpt, '--cfg-options'] +
                   tiny_options(tiny_data, 2) + ['train_cfg.val_interval=100'])
    assert [i for i, _ in _iter_lines(log)] == ['2']


@pytest.mark.slow
def test_dist_train_two_processes_gloo(tiny_data, teacher_ckpt, tmp_path):
    import subprocess
    env_cmd = [
        'bash', 'tools/dist_train.sh', DKD, '2', '--work-dir',
        str(tmp_path), '--cfg-options', f'model.teacher_ckpt={teacher_ckpt}'
    ] + tiny_options(tiny_data, 2)
    env_cmd.remove('model_wrapper_cfg=None')
    proc = subprocess.run(
        env_cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **__import__('os').environ, 'PORT': '29533',
            'PYTHON': __import__('sys').executable
        })
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert 'Distributed training is not used' not in out
    assert 'world_size: 2' in out or 'world size: 2' in out.lower() or \
        "'world_size': 2" in out or 'WORLD_SIZE' in out or \
        osp.isfile(osp.join(str(tmp_path), 'iter_2.pth'))
    assert osp.isfile(osp.join(str(tmp_path), 'iter_2.pth'))


@pytest.mark.slow
def test_extract_student_and_plain_test(tiny_data, teacher_ckpt, tmp_path):
    work_dir = str(tmp_path / 'run')
    run_tool([
        'tools/train.py', DKD, '--work-dir', work_dir, '--cfg-options',
        f'model.teacher_ckpt={teacher_ckpt}'
    ] + tiny_options(tiny_data, 1) + ['train_cfg.val_interval=100'])
    student = str(tmp_path / 'student.pth')
    run_tool([
        'tools/model_converters/extract_student.py',
        osp.join(work_dir, 'iter_1.pth'), student
    ])
    # Plain torch (weights_only default) and plain mmengine load it,
    # without dkd_mm's allow-list.
    log = run_tool([
        '-c', 'import torch, sys; c = torch.load(sys.argv[1]); '
        'print(len(c["state_dict"]), sorted(c["meta"]))', student
    ])
    assert 'dataset_meta' in log
    distiller = torch.load(osp.join(work_dir, 'iter_1.pth'))['state_dict']
    extracted = torch.load(student)['state_dict']
    assert set(extracted) == {
        k[len('student.'):]
        for k in distiller if k.startswith('student.')
    }
    # The student's own config evaluates it (tools/test.py with the student
    # config, as mmrotate's tools/test.py would).
    metrics = str(tmp_path / 'metrics.json')
    run_tool([
        'tools/test.py', STUDENT_TSA, student, '--work-dir',
        str(tmp_path / 'test'), '--metrics-out', metrics, '--cfg-options'
    ] + tiny_options(tiny_data, 1))
    assert 'dota/mAP' in open(metrics).read()


def test_plugin_through_custom_imports(tmp_path):
    """A user's mmrotate-scoped config reaches dkd_mm by custom_imports."""
    cfg = tmp_path / 'user_cfg.py'
    cfg.write_text(
        "_base_ = ['{}/configs/rotated_retinanet/"
        "rotated-retinanet_r18_fpn_synthetic.py']\n"
        "default_scope = 'mmrotate'\n"
        "custom_imports = dict(imports=['dkd_mm'], "
        "allow_failed_imports=False)\n"
        "model = dict(_delete_=True, type='dkd_mm.DKDDistiller', "
        "student={{{{_base_.model}}}}, teacher={{{{_base_.model}}}}, "
        "distill_losses=dict(loss_fitnet=dict(type='dkd_mm.FitNetLoss')))\n".
        format(ROOT))
    code = ('import sys, collections, collections.abc\n'
            'from mmengine.config import Config\n'
            'from mmengine.registry import MODELS, DefaultScope\n'
            'from mmengine.utils import import_modules_from_strings\n'
            'cfg = Config.fromfile(sys.argv[1])\n'
            'import_modules_from_strings(**cfg.custom_imports)\n'
            "DefaultScope.get_instance('user', scope_name=cfg.default_scope)\n"
            'model = MODELS.build(cfg.model)\n'
            'print(type(model).__name__, type(model.distill_losses'
            "['loss_fitnet']).__name__)\n")
    log = run_tool(['-c', code, str(cfg)])
    assert 'DKDDistiller FitNetLoss' in log
