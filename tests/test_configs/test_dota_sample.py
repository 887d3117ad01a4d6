"""The DOTA sample at the real patch size: full-size scenes in the release
format, split into mmrotate's 1024 px layout as tools/data/dota/split.py
splits."""
import dataclasses
import json
import os.path as osp

import cv2
import numpy as np

from dkd_mm.datasets import DOTA_V1_CLASSES, LabelIssues, read_dota_labels
from dkd_mm.testing.dota_sample import SPLIT_SETTINGS, rotate_corners
from dkd_mm_data.dota_split import SplitSettings
from tests.test_tools.conftest import ROOT


def test_split_settings_are_those_of_ss_trainval_json():
    path = osp.join(ROOT, 'tools', 'data', 'dota', 'split_configs',
                    'ss_trainval.json')
    with open(path) as f:
        preset = json.load(f)
    names = {field.name for field in dataclasses.fields(SplitSettings)}
    assert SPLIT_SETTINGS == SplitSettings(**{
        k: v
        for k, v in preset.items() if k in names
    })


def test_rotate_corners_follows_rot90():
    # Ones at rows 1-2, columns 2-5 of an 8 px tile: the box x 2..6, y 1..3.
    # One turn maps (x, y) to (y, 8 - x): x 1..3, y 2..6, which is where
    # np.rot90 puts the ones (rows 2-5, columns 1-2).
    tile = np.zeros((8, 8), np.uint8)
    tile[1:3, 2:6] = 1
    corners = np.array([[[2, 1], [6, 1], [6, 3], [2, 3]]], np.float64)
    assert np.array_equal(
        rotate_corners(corners, 1, 8), [[[1, 6], [1, 2], [3, 2], [3, 6]]])
    for k in range(5):
        ys, xs = np.nonzero(np.rot90(tile, k))
        rotated = rotate_corners(corners, k, 8)[0]
        assert rotated[:, 0].min() == xs.min()
        assert rotated[:, 0].max() == xs.max() + 1
        assert rotated[:, 1].min() == ys.min()
        assert rotated[:, 1].max() == ys.max() + 1


def _labels(path: str, shape: tuple) -> tuple:
    issues = LabelIssues('error')
    labels = read_dota_labels(path, issues, shape, DOTA_V1_CLASSES)
    return labels, issues


def test_release_layout_with_headers(dota_sample):
    release = dota_sample['release_dir']
    assert sorted(dota_sample['images']) == ['P0001', 'P0002', 'P0003']
    for img_id, (width, height) in dota_sample['images'].items():
        subset = 'val' if img_id == 'P0003' else 'train'
        img = cv2.imread(osp.join(release, subset, 'images', img_id + '.png'))
        assert img.shape == (height, width, 3)
        path = osp.join(release, subset, 'labelTxt', img_id + '.txt')
        with open(path) as f:
            lines = f.read().splitlines()
        assert lines[0] == 'imagesource:GoogleEarth'
        assert lines[1].startswith('gsd:') and float(lines[1][4:]) > 0
        assert len(lines) > 2 + 20  # objects in a fifth of the cells
        for line in lines[2:]:
            fields = line.split()
            assert len(fields) == 10 and fields[8] in DOTA_V1_CLASSES
            assert fields[9] == '0'
        # The project's reader takes every object line, rejects none.
        labels, issues = _labels(path, (height, width))
        assert len(labels.polys) == len(lines) - 2
        assert len(issues) == 0
        assert labels.polys[:, 0::2].max() <= width
        assert labels.polys[:, 1::2].max() <= height


def test_split_windows_and_patch_labels(dota_sample):
    # 1024 px windows moved by 1024 - 200 = 824 px, the last of a row or
    # column shifted back to end at the border: 2048 px gives 0, 824 and
    # 1024 (1648 + 1024 > 2048); 1792 px gives 0 and 768; 1536 px 0 and 512.
    expected = {
        f'{img_id}__1024__{x}___{y}'
        for img_id, xs, ys in (('P0001', (0, 824, 1024),
                                (0, 768)), ('P0002', (0, 768), (0, 824, 1024)),
                               ('P0003', (0, 824, 1024), (0, 512)))
        for x in xs
        for y in ys
    }
    assert set(dota_sample['patches']) == expected
    split = osp.join(dota_sample['data_root'], 'trainval')
    full, _ = _labels(
        osp.join(dota_sample['release_dir'], 'train', 'labelTxt', 'P0001.txt'),
        (1792, 2048))
    for x, y in ((0, 0), (824, 768)):
        name = f'P0001__1024__{x}___{y}'
        img = cv2.imread(osp.join(split, 'images', name + '.png'))
        assert img.shape == (1024, 1024, 3)
        # Objects wholly inside the window are in the patch, moved by the
        # window's offset, with their difficulty (0); cut ones get 2.
        inside = full.polys - np.tile([x, y], 4)
        inside = inside[(inside >= 0).all(1) & (inside <= 1024).all(1)]
        with open(osp.join(split, 'annfiles', name + '.txt')) as f:
            rows = [line.split() for line in f.read().splitlines()]
        whole = np.array([r[:8] for r in rows if r[9] == '0'], np.float64)
        assert len(inside) > 0
        assert sorted(map(tuple, np.round(whole, 1))) == sorted(
            map(tuple, np.round(inside, 1)))
