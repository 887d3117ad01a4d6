"""Rotated FCOS's box loss through real DKD training steps.

Upstream's RotatedIoULoss needs CUDA, so the rotated FCOS configs use GWD
(inside TSA for the student) unless the teacher config's ``cuda_box_loss``
switches the whole family to upstream's loss.  KLD, the other Gaussian
loss, gives a NaN box loss at the first step of an initialised rotated FCOS
(issue 4); these tests show that GWD stays finite over real training steps.
"""
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config

import dkd_mm  # noqa: F401
from dkd_mm.testing._utils import REPO_ROOT
from dkd_mm.testing.short_run import short_run_cfg, train_losses

DKD = 'rotated_fcos/dkd_rotated-fcos_r50-r18_synthetic.py'
TEACHER = 'rotated_fcos/rotated-fcos_r50_fpn_synthetic.py'
STEPS = 5


def config(name: str, root: str = osp.join(REPO_ROOT, 'configs')) -> Config:
    return Config.fromfile(osp.join(root, name))


@pytest.fixture(scope='module')
def cuda_configs(tmp_path_factory) -> str:
    """A copy of configs/ with the family's one switch set, as a user with
    CUDA sets it."""
    root = str(tmp_path_factory.mktemp('cuda') / 'configs')
    shutil.copytree(osp.join(REPO_ROOT, 'configs'), root)
    teacher = osp.join(root, TEACHER)
    with open(teacher) as f:
        text = f.read()
    assert text.count('cuda_box_loss = False\n') == 1
    with open(teacher, 'w') as f:
        f.write(
            text.replace('cuda_box_loss = False\n', 'cuda_box_loss = True\n'))
    return root


def tiny_run_cfg(
    name: str,
    data_root: str,
    work_dir: str,
    root: str = osp.join(REPO_ROOT, 'configs')
) -> Config:  # noqa: E125
    """The config as it is, trained for a few steps on the tiny split."""
    return short_run_cfg(config(name, root), data_root, work_dir, STEPS)


def test_cpu_configs_use_gwd_one_switch_restores_upstream_loss(cuda_configs):
    names = ('rotated_fcos/rotated-fcos_r50_fpn_synthetic.py',
             'rotated_fcos/rotated-fcos_r18_fpn_synthetic.py',
             'rotated_fcos/rotated-fcos_r18-thin_fpn_synthetic.py')
    for name in names:
        loss = config(name).model.bbox_head.loss_bbox
        assert (loss.type, loss.loss_type) == ('mmrotate.GDLoss', 'gwd')
        cuda = config(name, cuda_configs).model.bbox_head.loss_bbox
        assert cuda == dict(type='RotatedIoULoss', loss_weight=1.0)
    student = config(DKD).model.student.bbox_head.loss_bbox
    assert student.type == 'dkd_mm.TSALoss'
    assert student.base_loss.loss_type == 'gwd'
    cuda = config(DKD, cuda_configs).model
    assert cuda.student.bbox_head.loss_bbox.type == 'dkd_mm.TSALoss'
    assert cuda.student.bbox_head.loss_bbox.base_loss.type == \
        'RotatedIoULoss'
    # The teacher is the family's teacher config, switched with it.
    assert cuda.teacher.startswith(cuda_configs)
    assert config(cuda.teacher).model.bbox_head.loss_bbox.type == \
        'RotatedIoULoss'


@pytest.mark.slow
def test_dkd_training_steps_stay_finite(tiny_data, tmp_path):
    losses, _ = train_losses(tiny_run_cfg(DKD, tiny_data + '/', str(tmp_path)))
    for key in ('loss', 'loss_cls', 'loss_bbox', 'loss_centerness',
                'loss_global_distill_fg', 'loss_global_distill_bg',
                'loss_global_distill_relation', 'loss_isd_feat',
                'loss_isd_relation'):
        assert len(losses[key]) == STEPS, key
        assert np.isfinite(losses[key]).all(), (key, losses[key])
    assert (losses['loss_bbox'] > 0).all()


@pytest.mark.slow
@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='RotatedIoULoss needs CUDA')
def test_cuda_box_loss_training_steps_stay_finite(tiny_data, tmp_path,
                                                  cuda_configs):
    losses, _ = train_losses(
        tiny_run_cfg(DKD, tiny_data + '/', str(tmp_path), cuda_configs))
    for key in ('loss', 'loss_bbox', 'loss_global_distill_fg',
                'loss_isd_feat'):
        assert np.isfinite(losses[key]).all(), (key, losses[key])
