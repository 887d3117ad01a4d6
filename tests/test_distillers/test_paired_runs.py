"""Seed s gives the student the same initial weights with and without
distillation, through mmengine's Runner (the benchmark's paired rows)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STUDENT = 'configs/rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'
FITNET = ('configs/rotated_retinanet/'
          'fitnet_rotated-retinanet_r50-r18_synthetic.py')
DKD = 'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py'


class _RecordInitialStudent(Hook):
    """Keeps the student's weights as training starts (after the Runner's
    init_weights, before the first step)."""
    states: list = []

    def before_train(self, runner) -> None:
        model = runner.model
        student = getattr(model, 'student', model)
        self.states.append({
            k: v.clone()
            for k, v in student.state_dict().items()
        })


@pytest.fixture
def record_hook():
    HOOKS.register_module(
        name='_RecordInitialStudent', module=_RecordInitialStudent, force=True)
    _RecordInitialStudent.states = []
    yield _RecordInitialStudent.states
    HOOKS._module_dict.pop('_RecordInitialStudent')


def _initial_student(config: str, data: str, work_dir: str, seed: int,
                     states: list) -> dict:
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=1, val_interval=10)
    cfg.randomness = dict(seed=seed)
    cfg.default_hooks.checkpoint.interval = 10
    cfg.default_hooks.visualization.draw = False
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = data + '/'
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    if 'teacher' in cfg.model:
        cfg.model.teacher_ckpt = None
    cfg.custom_hooks = list(cfg.get(
        'custom_hooks', [])) + [dict(type='_RecordInitialStudent')]
    Runner.from_cfg(cfg).train()
    return states[-1]


@pytest.mark.slow
def test_a_seed_starts_every_row_from_the_same_student(tiny_data, tmp_path,
                                                       record_hook):
    plain = _initial_student(STUDENT, tiny_data, str(tmp_path / 'a'), 5,
                             record_hook)
    fitnet = _initial_student(FITNET, tiny_data, str(tmp_path / 'b'), 5,
                              record_hook)
    # DKD's student has TSA's box loss: a loss, no parameters of its own.
    dkd = _initial_student(DKD, tiny_data, str(tmp_path / 'c'), 5, record_hook)
    other = _initial_student(STUDENT, tiny_data, str(tmp_path / 'd'), 6,
                             record_hook)
    assert plain.keys() == fitnet.keys() == dkd.keys()
    for name, state in (('fitnet', fitnet), ('dkd', dkd)):
        differ = [k for k in plain if not torch.equal(plain[k], state[k])]
        assert not differ, (name, differ[:5])
    # Another seed, another student: the comparison can fail.
    assert not torch.equal(plain['bbox_head.retina_cls.weight'],
                           other['bbox_head.retina_cls.weight'])
