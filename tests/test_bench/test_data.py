"""bench/data.py: the NWPU-format table's data and the options that put the
NWPU VHR-10 configs on the benchmark's schedule and image size."""
import argparse
import os
import os.path as osp

import pytest
from mmengine.config import Config, DictAction

from bench import runs
from bench.data import NWPU, SYNTHETIC_DOTA, make_nwpu_sample
from bench.methods import FAMILIES, PAIR_DATA, row_options


def merged(config: str, options) -> Config:
    """``config`` with ``options`` merged as tools/train.py merges them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(osp.join(runs.ROOT, config))
    cfg.merge_from_dict(
        parser.parse_args(['--cfg-options'] + list(options)).cfg_options)
    return cfg


def without_scope(value):
    """``value`` without the ``_scope_`` keys mmengine adds to bases."""
    if isinstance(value, dict):
        return {
            k: without_scope(v)
            for k, v in value.items() if k != '_scope_'
        }
    if isinstance(value, list):
        return [without_scope(v) for v in value]
    return value


def test_pairs_take_their_data():
    assert PAIR_DATA['retinanet-nwpu'] is NWPU
    assert [k for k, _ in NWPU.columns] == ['ship', 'vehicle']
    assert SYNTHETIC_DOTA.options(True) == []  # rotated configs as written


ROWS = {'teacher': 'teacher', 'student': 'student', 'dkd': 'dkd (GD+ISD+TSA)'}


@pytest.mark.parametrize('role', list(ROWS))
def test_nwpu_rows_train_on_the_rotated_tables_schedule(role):
    # Every NWPU row on the schedule the rotated configs inherit: the same
    # loop, optimizer, warm-up and steps as a rotated family's student after
    # the same schedule options, at 256 px and batch 4.
    schedule = runs.schedule_options(200, 'data/x', 0)
    nwpu = merged(FAMILIES['retinanet-nwpu'][role],
                  schedule + row_options('retinanet-nwpu', ROWS[role]))
    rotated = merged(FAMILIES['rotated-fcos']['student'], schedule)
    assert nwpu.train_cfg == dict(
        type='IterBasedTrainLoop',
        max_iters=200,
        val_interval=201,
        val_begin=201)
    for key in ('optim_wrapper', 'param_scheduler', 'log_processor'):
        assert without_scope(nwpu[key]) == without_scope(rotated[key]), key
    assert nwpu.default_hooks.checkpoint.by_epoch is False
    assert nwpu.default_hooks.checkpoint.interval == 200
    assert nwpu.train_dataloader.batch_size == 4
    # The options' pipeline indices are the Resize steps.
    for loader, index in (('train_dataloader', 2), ('val_dataloader', 1),
                          ('test_dataloader', 1)):
        step = nwpu[loader].dataset.pipeline[index]
        assert step.type == 'mmdet.Resize'
        assert tuple(step.scale) == (256, 256)
        assert nwpu[loader].dataset.data_root == 'data/x/'
    # The data base's VOC metric in area mode, nothing of COCO's left.
    assert nwpu.test_evaluator == dict(
        type='mmdet.VOCMetric', metric='mAP', eval_mode='area')
    if role == 'dkd':
        # DKD's weights warm up with the learning rate, as in the rotated
        # DKD configs (500 iterations in the 1x config, past 200).
        hook = nwpu.custom_hooks[0]
        assert hook.type == 'dkd_mm.DKDTeacherHook'
        assert hook.warmup_iters == rotated.param_scheduler[0].end == 50


def test_nwpu_sample_refuses_a_folder_of_other_data(tmp_path):
    # The sample tool overwrites files of the same name and the split lists
    # every image: a folder of other data (a real release) is left alone.
    root = tmp_path / 'NWPU VHR-10 dataset'
    (root / 'positive image set').mkdir(parents=True)
    (root / 'positive image set' / '001.jpg').write_bytes(b'real')
    with pytest.raises(SystemExit, match='other data than the benchmark'):
        make_nwpu_sample(str(root), False, str(tmp_path))
    assert (root / 'positive image set' / '001.jpg').read_bytes() == b'real'
    assert sorted(os.listdir(root)) == ['positive image set']
    assert not (tmp_path / 'data.log').exists()


def test_nwpu_sample_is_made_once_and_remade_alike(tmp_path):
    root = str(tmp_path / 'nwpu')
    make_nwpu_sample(root, True, str(tmp_path))
    splits = {
        s: open(osp.join(root, 'splits', f'{s}.txt')).read()
        for s in ('train', 'val', 'test')
    }
    # 8 positive and 2 negative images, split 0.6 / 0.2 / 0.2 of each.
    assert sum(len(t.split()) for t in splits.values()) == 10
    assert 'negative/' in splits['train'] and splits['test']
    make_nwpu_sample(root, True, str(tmp_path))  # its own sample: accepted
    for split, text in splits.items():
        assert open(osp.join(root, 'splits', f'{split}.txt')).read() == text


def test_distill_options_reach_only_dkd_mm_distiller_rows():
    extra = ['model.isd_instances=loss_pass']
    pair = 'rotated-retinanet'
    dkd = row_options(pair, 'dkd (GD+ISD+TSA)', 'teacher.pth', extra)
    assert dkd[-2:] == ['model.teacher_ckpt=teacher.pth'] + extra
    assert dkd[:-2] == row_options(pair, 'dkd (GD+ISD+TSA)')
    assert row_options(pair, 'cwd', 'teacher.pth', extra)[-1] == extra[0]
    # mmrazor's distiller has no such key: the checkpoint only.
    razor = row_options(pair, 'mmrazor PKD', 'teacher.pth', extra)
    assert razor[-1] == 'model.teacher_ckpt=teacher.pth'
    # Plain students and the teacher: neither.
    for name in ('student', 'student (TSA)', 'teacher'):
        assert row_options(pair, name, 'teacher.pth',
                           extra) == row_options(pair, name)
    # A family's DKD row alike.
    fcos = row_options('rotated-fcos', 'dkd (GD+ISD+TSA)', 't.pth', extra)
    assert fcos[-1] == extra[0]
