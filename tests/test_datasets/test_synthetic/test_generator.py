import dataclasses
import json
import os
import os.path as osp
import runpy
import shutil
import sys

import cv2
import numpy as np
import pytest

from dkd_mm.datasets.synthetic import (PRESETS, SYNTHETIC_CLASSES,
                                       SYNTHETIC_PALETTE, SyntheticDOTAConfig,
                                       fill_polygon, generate_synthetic_dota,
                                       render_image)
from dkd_mm_data.labels import LabelIssues, read_dota_labels

SMALL = SyntheticDOTAConfig(
    num_train=3, num_val=2, num_test=2, img_size=128, seed=7)
ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')


def load_labels(path: str, size: int) -> tuple:
    """``(N, 4, 2)`` corners and N class names of a written label file,
    read by the loaders' reader: any line it drops fails the test."""
    labels = read_dota_labels(path, LabelIssues('error'), (size, size),
                              SYNTHETIC_CLASSES)
    return labels.polys.reshape(-1, 4, 2), labels.classes


@pytest.fixture(scope='module')
def renders() -> list:
    """Scenes at 256 px, the size objects are tuned for and the demo uses."""
    return [render_image(PRESETS['default'], 'train', i) for i in range(24)]


def _files(root: str) -> dict:
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


def _footprint(corners: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    fill_polygon(mask, corners, (1, ))
    return mask.astype(bool)


def _sides(corners: np.ndarray) -> np.ndarray:
    """(N, 4, 2) corners -> (N, 2) lengths of two adjacent sides."""
    return np.stack([
        np.linalg.norm(corners[:, 1] - corners[:, 0], axis=-1),
        np.linalg.norm(corners[:, 2] - corners[:, 1], axis=-1)
    ], -1)


def test_classes_and_palette():
    assert len(SYNTHETIC_CLASSES) in (5, 6)
    mmrotate_dota = ('plane', 'baseball-diamond', 'bridge',
                     'ground-track-field', 'small-vehicle', 'large-vehicle',
                     'ship', 'tennis-court', 'basketball-court',
                     'storage-tank', 'soccer-ball-field', 'roundabout',
                     'harbor', 'swimming-pool', 'helicopter')
    assert set(SYNTHETIC_CLASSES) <= set(mmrotate_dota)
    assert len(SYNTHETIC_PALETTE) == len(SYNTHETIC_CLASSES)
    assert all(len(c) == 3 for c in SYNTHETIC_PALETTE)


def test_presets_and_config_checks():
    assert PRESETS['tiny'].img_size == 128
    assert PRESETS['default'].img_size == 256
    assert PRESETS['default'].num_train >= 4 * PRESETS['default'].num_val
    # The benchmark's split; every preset holds test images out.
    assert [
        PRESETS['default'].num_images(s) for s in ('train', 'val', 'test')
    ] == [400, 100, 200]
    assert all(cfg.num_test > 0 for cfg in PRESETS.values())
    with pytest.raises(ValueError):
        SyntheticDOTAConfig(num_train=-1)
    with pytest.raises(ValueError):
        SyntheticDOTAConfig(num_test=-1)
    with pytest.raises(ValueError):
        SyntheticDOTAConfig(img_size=32)


def test_same_seed_same_bytes(tmp_path):
    first = generate_synthetic_dota(str(tmp_path / 'a'), SMALL, False)
    generate_synthetic_dota(str(tmp_path / 'b'), SMALL, False)
    files_a, files_b = _files(tmp_path / 'a'), _files(tmp_path / 'b')
    assert files_a == files_b
    assert len(files_a) == 2 * (3 + 2 + 2) + 1  # images, labels, meta.json
    assert first['images'] == dict(train=3, val=2, test=2)
    assert not first['skipped']

    other = dataclasses.replace(SMALL, seed=8)
    generate_synthetic_dota(str(tmp_path / 'c'), other, False)
    files_c = _files(tmp_path / 'c')
    assert files_c.keys() == files_a.keys()
    for name in files_a:
        if name.endswith('.png'):
            assert files_a[name] != files_c[name], name


def test_val_does_not_depend_on_num_train():
    more = dataclasses.replace(SMALL, num_train=9, num_test=5)
    a, b = render_image(SMALL, 'val', 1), render_image(more, 'val', 1)
    np.testing.assert_array_equal(a.image, b.image)


def test_test_subset_keeps_train_and_val(tmp_path):
    generate_synthetic_dota(str(tmp_path / 'a'), SMALL, False)
    without = dataclasses.replace(SMALL, num_test=0)
    generate_synthetic_dota(str(tmp_path / 'b'), without, False)
    with_test, before = _files(tmp_path / 'a'), _files(tmp_path / 'b')
    # Train and val as the generator wrote them before the test subset.
    for name, data in before.items():
        if name != 'meta.json':
            assert with_test[name] == data, name
    added = sorted(set(with_test) - set(before))
    assert added == [
        osp.join('test', folder, f'test_{i:05d}.{ext}')
        for folder, ext in (('annfiles', 'txt'), ('images', 'png'))
        for i in range(2)
    ]
    # Held out: no test image is a val (or train) image.
    for i in range(2):
        image = with_test[osp.join('test', 'images', f'test_{i:05d}.png')]
        assert image != with_test[osp.join('val', 'images',
                                           f'val_{i:05d}.png')]
        assert image != with_test[osp.join('train', 'images',
                                           f'train_{i:05d}.png')]


def test_old_folder_without_test_is_completed(tmp_path):
    """A data set written before the test subset (no ``num_test`` in its
    meta.json, no test/) is not the same data: it gets its test images."""
    out = str(tmp_path)
    generate_synthetic_dota(out, dataclasses.replace(SMALL, num_test=0), False)
    shutil.rmtree(osp.join(out, 'test'))
    meta_path = osp.join(out, 'meta.json')
    with open(meta_path) as f:
        meta = json.load(f)
    del meta['config']['num_test'], meta['images']['test']
    del meta['instances']['test']
    with open(meta_path, 'w') as f:
        json.dump(meta, f)
    result = generate_synthetic_dota(out, SMALL, False)
    assert not result['skipped']
    assert result['images'] == dict(train=3, val=2, test=2)
    assert len(os.listdir(osp.join(out, 'test', 'images'))) == 2
    assert generate_synthetic_dota(out, SMALL, False)['skipped']


def test_label_files_parse(tmp_path):
    result = generate_synthetic_dota(str(tmp_path), PRESETS['tiny'], False)
    size = PRESETS['tiny'].img_size
    total = 0
    for subset in ('train', 'val', 'test'):
        ann_dir = tmp_path / subset / 'annfiles'
        stems = sorted(n[:-4] for n in os.listdir(ann_dir))
        images = sorted(n[:-4]
                        for n in os.listdir(tmp_path / subset / 'images'))
        assert stems == images
        assert len(stems) == PRESETS['tiny'].num_images(subset)
        counts = dict.fromkeys(SYNTHETIC_CLASSES, 0)
        for stem in stems:
            img = cv2.imread(
                str(tmp_path / subset / 'images' / (stem + '.png')))
            assert img.shape == (size, size, 3)
            with open(ann_dir / (stem + '.txt')) as f:
                for line in f:
                    fields = line.split()
                    assert len(fields) == 10
                    assert np.isfinite([float(v) for v in fields[:8]]).all()
                    assert fields[8] in SYNTHETIC_CLASSES
                    assert fields[9] == '0'
                    assert not line.startswith(('imagesource', 'gsd'))
                    counts[fields[8]] += 1
            corners, _ = load_labels(str(ann_dir / (stem + '.txt')), size)
            assert np.all((corners >= 0) & (corners <= size))
        assert counts == result['instances'][subset]
        total += sum(counts.values())
    assert total > 0


def test_corner_order_is_clockwise(renders):
    corners = np.concatenate([s.corners for s in renders])
    x, y = corners[..., 0], corners[..., 1]
    # shoelace sum > 0 means clockwise on screen, where y points down
    area = (x * np.roll(y, -1, 1) - np.roll(x, -1, 1) * y).sum(1)
    assert np.all(area > 0)


def test_object_shapes(renders):
    labels = np.concatenate([s.labels for s in renders])
    assert set(labels.tolist()) == set(range(len(SYNTHETIC_CLASSES)))
    # measure what the label files hold: corners rounded to 0.1 pixel
    corners = np.round(np.concatenate([s.corners for s in renders]), 1)
    sides = np.sort(_sides(corners), axis=1)
    ships = sides[labels == SYNTHETIC_CLASSES.index('ship')]
    aspect = ships[:, 1] / ships[:, 0]
    assert np.all((aspect >= 4) & (aspect <= 10)), aspect
    cars = sides[labels == SYNTHETIC_CLASSES.index('small-vehicle')]
    assert np.all((cars >= 8) & (cars <= 16)), cars


def test_objects_in_context_and_apart(renders):
    for scene in renders:
        size = scene.image.shape[0]
        land = ~(scene.water_mask | scene.road_mask | scene.airfield_mask)
        taken = np.zeros((size, size), np.int64)
        for corners, label in zip(scene.corners, scene.labels):
            name = SYNTHETIC_CLASSES[label]
            footprint = _footprint(corners, size)
            taken += footprint
            if name == 'ship':
                assert scene.water_mask[footprint].all()
            elif name == 'plane':
                assert scene.airfield_mask[footprint].mean() >= 0.4
                assert not scene.water_mask[footprint].any()
            elif name.endswith('vehicle'):
                assert scene.road_mask[footprint].mean() >= 0.95
            else:
                assert land[footprint].mean() >= 0.99
        assert (taken > 1).sum() <= 0.05 * max((taken > 0).sum(), 1)
    # the masks describe the pixels: water is blue, land is not
    water = np.concatenate([s.image[s.water_mask] for s in renders])
    land = np.concatenate([s.image[~s.water_mask] for s in renders])
    assert water[:, 2].mean() > water[:, 0].mean() + 30
    assert land[:, 2].mean() < land[:, 0].mean()


def test_skip_when_already_generated(tmp_path):
    out = str(tmp_path)
    generate_synthetic_dota(out, SMALL, False, preset='custom')
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert meta['config']['seed'] == 7 and meta['preset'] == 'custom'
    # The recorded name is the data's identity, kept when the module moved
    # (data/synthetic_dota/meta.json written before stays valid).
    assert meta['generator'] == 'dkd_mm.datasets.synthetic_dota'
    assert meta['classes'] == list(SYNTHETIC_CLASSES)
    assert meta['images'] == dict(train=3, val=2, test=2)
    label = osp.join(out, 'train', 'annfiles', 'train_00000.txt')
    os.utime(label, (1, 1))

    assert generate_synthetic_dota(out, SMALL, False)['skipped']
    assert os.stat(label).st_mtime == 1
    assert not generate_synthetic_dota(
        out, SMALL, False, force=True)['skipped']
    assert os.stat(label).st_mtime != 1

    os.remove(label)  # an incomplete folder is regenerated
    assert not generate_synthetic_dota(out, SMALL, False)['skipped']
    fewer = dataclasses.replace(SMALL, num_train=1, num_val=1)
    generate_synthetic_dota(out, fewer, False)
    assert os.listdir(osp.join(out, 'train', 'images')) == ['train_00000.png']


def test_refuses_folders_with_other_files(tmp_path):
    os.makedirs(tmp_path / 'train' / 'images')
    (tmp_path / 'train' / 'images' / 'P0001.png').write_bytes(b'')
    with pytest.raises(FileExistsError):
        generate_synthetic_dota(str(tmp_path), SMALL, False)


def test_command_line_tool(tmp_path, monkeypatch, capsys):
    script = osp.join(ROOT, 'tools', 'data', 'make_synthetic_dota.py')
    argv = [
        script, '--out-dir',
        str(tmp_path), '--split', 'tiny', '--num-images', '5', '--seed', '3'
    ]
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(script, run_name='__main__')
    out = capsys.readouterr().out
    # --num-images splits train and val 4:1; test gets twice val.
    assert 'train: 4 images' in out and 'test: 2 images' in out
    runpy.run_path(script, run_name='__main__')
    assert 'already holds' in capsys.readouterr().out
    with open(tmp_path / 'meta.json') as f:
        assert json.load(f)['config'] == dict(
            num_train=4, num_val=1, num_test=2, img_size=128, seed=3)
    monkeypatch.setattr(sys, 'argv', argv + ['--num-test', '3'])
    runpy.run_path(script, run_name='__main__')
    assert 'test: 3 images' in capsys.readouterr().out


def test_mmrotate_dota_dataset_reads_it(tmp_path):
    from mmengine import DefaultScope
    from mmrotate.datasets import DOTADataset
    from mmrotate.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    cfg = PRESETS['tiny']
    generate_synthetic_dota(str(tmp_path), cfg, False)
    pipeline = [
        dict(type='mmdet.LoadImageFromFile'),
        dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
        dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
        dict(  # no Resize, so no scale_factor among the default meta keys
            type='mmdet.PackDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape'))
    ]
    with DefaultScope.overwrite_default_scope('mmrotate'):
        dataset = DOTADataset(
            data_root=str(tmp_path),
            ann_file='train/annfiles/',
            data_prefix=dict(img_path='train/images/'),
            img_shape=(cfg.img_size, cfg.img_size),
            metainfo=dict(
                classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE),
            pipeline=pipeline)
        assert len(dataset) == cfg.num_train
        for idx in range(len(dataset)):
            info = dataset.get_data_info(idx)
            data = dataset[idx]
            corners, names = load_labels(
                str(tmp_path / 'train' / 'annfiles' /
                    (info['img_id'] + '.txt')), cfg.img_size)
            boxes = data['data_samples'].gt_instances.bboxes
            labels = data['data_samples'].gt_instances.labels
            assert data['inputs'].shape == (3, cfg.img_size, cfg.img_size)
            assert boxes.tensor.shape == (len(names), 5)
            assert labels.tolist() == [
                SYNTHETIC_CLASSES.index(n) for n in names
            ]
            if len(names):
                centres = corners.mean(1)
                np.testing.assert_allclose(
                    boxes.tensor[:, :2].numpy(), centres, atol=0.2)


def test_matches_the_dataset_config():
    path = osp.join(ROOT, 'configs', '_base_', 'datasets', 'synthetic_dota.py')
    from mmengine import Config
    cfg = Config.fromfile(path)
    assert tuple(cfg.synthetic_metainfo['classes']) == SYNTHETIC_CLASSES
    palette = [tuple(c) for c in cfg.synthetic_metainfo['palette']]
    assert palette == SYNTHETIC_PALETTE
    assert cfg.synthetic_img_size == PRESETS['default'].img_size
