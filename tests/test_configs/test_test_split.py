"""Every config on the embedded synthetic data or on NWPU VHR-10 tests on a
held-out split, not on the train or val images.

The real-data DOTA configs (configs/dota/, bases dota_v1*.py) test on val on
purpose: DOTA's test labels are not public, and that is upstream's
convention.  Every other config must read one of the two data sets here, so
a config on new data shows up and is checked, not skipped.
"""
import glob
import os.path as osp
from functools import lru_cache
from typing import Set

import pytest
from mmengine.config import Config

from dkd_mm.testing._utils import REPO_ROOT

BASES = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
CONFIGS = sorted(
    p for p in
    glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True) +
    glob.glob(osp.join(REPO_ROOT, 'bench', 'configs', '*.py'))
    if not osp.relpath(p, REPO_ROOT).startswith(('configs/_base_',
                                                 'configs/dota/')))
SEEN_SPLITS = {'train', 'val', 'trainval'}


@lru_cache()
def data_roots() -> Set[str]:
    """The loaders' ``data_root`` of the data sets checked here."""
    synthetic = Config.fromfile(osp.join(BASES, 'synthetic_dota.py'))
    nwpu = Config.fromfile(osp.join(BASES, 'nwpu_vhr10.py'))
    return {synthetic.synthetic_data_root, nwpu.nwpu_data_root}


def split_names(dataset: dict) -> Set[str]:
    """The folder and file names (no extension) of a dataset's
    ``ann_file`` and ``data_prefix``: where a split shows in its paths."""
    paths = [dataset.get('ann_file', '')]
    paths += list(dataset.get('data_prefix', {}).values())
    return {
        osp.splitext(part)[0]
        for path in paths
        for part in path.split('/') if part
    }


def where(dataset: dict) -> tuple:
    """What a dataset reads: its root, label files and image folders."""
    return (dataset.get('data_root'), dataset.get('ann_file'),
            dict(dataset.get('data_prefix', {})))


def test_split_names():
    val = dict(
        ann_file='val/annfiles/', data_prefix=dict(img_path='val/images/'))
    assert split_names(val) == {'val', 'annfiles', 'images'}
    assert split_names(dict(ann_file='splits/test.txt')) == {'splits', 'test'}
    assert split_names(dict()) == set()


def test_every_family_is_found():
    names = [osp.basename(p) for p in CONFIGS]
    assert sum(n.endswith('_synthetic.py') for n in names) >= 20
    assert sum('nwpu' in n for n in names) >= 20
    assert 'teacher_r18-w128.py' in names


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_tests_on_held_out_split(path, monkeypatch):
    # bench/configs/mmrazor_pkd_* loads its student by a path relative to
    # the repo root, as tools/train.py runs it.
    monkeypatch.chdir(REPO_ROOT)
    cfg = Config.fromfile(path, import_custom_modules=False)
    train = cfg.train_dataloader.dataset
    val = cfg.val_dataloader.dataset
    test = cfg.test_dataloader.dataset
    assert train.data_root in data_roots(), (
        f'{path} trains on {train.data_root!r}, neither the synthetic nor '
        'the NWPU data: add its data root to this test (configs/dota/ '
        'alone may test on val)')
    assert val.data_root == test.data_root == train.data_root
    names = split_names(test)
    assert 'test' in names and not names & SEEN_SPLITS, (
        f'{path}: test_dataloader reads {where(test)}, not the test split')
    assert where(test) != where(val), (
        f'{path}: test_dataloader reads the val loader\'s images')
