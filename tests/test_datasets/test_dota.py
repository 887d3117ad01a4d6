import dkd_mm  # noqa: F401 isort: skip (Python 3.11 shim before mmrotate)

import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmrotate.datasets import DOTADataset
from mmrotate.structures import RotatedBoxes

from dkd_mm.datasets.dota import (DOTA_V1_CLASSES, DOTA_V15_CLASSES,
                                  RobustDOTADataset, RobustDOTAv15Dataset)
from dkd_mm.datasets.synthetic import (SyntheticDOTAConfig,
                                       generate_synthetic_dota)
from dkd_mm.registry import DATASETS
from dkd_mm_data.labels import BadLabelError, issues

CONFIGS = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets')
GOOD = '10 10 30 10 30 30 10 30 plane 0'
# One bad line per reason, with the line number each has in BAD_FILE.
BAD_LINES = {
    'malformed': '10 10 30 10 30 30 10 plane 0',
    'non_numeric': '10 10 30 10 3O 30 10 30 plane 0',
    'unknown_class': '10 10 30 10 30 30 10 30 aeroplane 0',
    'degenerate': '10 10 30 10 30 10 10 10 plane 0',
    'outside': '70 70 90 70 90 90 70 90 plane 0',
}
BAD_FILE = [
    'imagesource:GoogleEarth', 'gsd:0.146', GOOD, '', *BAD_LINES.values(),
    '-5 -5 20 -5 20 20 -5 20 ship 1'
]


@pytest.fixture
def logs(monkeypatch) -> list:
    """The messages of the one-time report, with their level."""
    calls = []
    monkeypatch.setattr(issues, 'print_log',
                        lambda msg, logger, level: calls.append((msg, level)))
    return calls


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('synthetic_dota'))
    generate_synthetic_dota(
        root,
        SyntheticDOTAConfig(num_train=4, num_val=2, img_size=128, seed=0),
        progress=False)
    return root


def write_image(path, h: int = 64, w: int = 64) -> None:
    rng = np.random.default_rng(0)
    assert cv2.imwrite(str(path), rng.integers(0, 255, (h, w, 3), np.uint8))


def make_root(tmp_path, labels: dict, images: dict) -> str:
    """labels: stem -> lines (or bytes); images: file name -> (h, w) or
    bytes."""
    os.makedirs(tmp_path / 'annfiles')
    os.makedirs(tmp_path / 'images')
    for stem, lines in labels.items():
        path = tmp_path / 'annfiles' / f'{stem}.txt'
        if isinstance(lines, bytes):
            path.write_bytes(lines)
        else:
            path.write_text(''.join(line + '\n' for line in lines))
    for name, size in images.items():
        if isinstance(size, bytes):
            (tmp_path / 'images' / name).write_bytes(size)
        else:
            write_image(tmp_path / 'images' / name, *size)
    return str(tmp_path)


def build(root: str, cls=RobustDOTADataset, **kwargs):
    kwargs.setdefault('ann_file', 'annfiles/')
    return cls(data_root=root, data_prefix=dict(img_path='images/'), **kwargs)


def infos(dataset) -> list:
    out = [dataset.get_data_info(i) for i in range(len(dataset))]
    return [{k: v for k, v in d.items() if k != 'sample_idx'} for d in out]


def test_original_labels_and_image_formats(tmp_path, logs):
    header = ['imagesource:GoogleEarth', 'gsd:0.146343590398']
    root = make_root(tmp_path, {s: header + [GOOD]
                                for s in 'abcd'}, {
                                    'a.png': (64, 64),
                                    'b.jpg': (48, 80),
                                    'c.tif': (64, 40),
                                    'd.tiff': (40, 64)
                                })
    data = infos(build(root))
    assert [d['file_name']
            for d in data] == ['a.png', 'b.jpg', 'c.tif', 'd.tiff']
    assert [(d['height'], d['width']) for d in data] == [(64, 64), (48, 80),
                                                         (64, 40), (40, 64)]
    assert all(d['instances'] == [
        dict(
            bbox=[10.0, 10, 30, 10, 30, 30, 10, 30],
            bbox_label=0,
            ignore_flag=0)
    ] for d in data)
    assert data[1]['img_path'] == osp.join(root, 'images', 'b.jpg')
    assert logs == []


def test_v15_class_and_metainfo_switch(tmp_path, logs):
    lines = [GOOD, '10 10 30 10 30 30 10 30 container-crane 2']
    root = make_root(tmp_path, {'a': lines}, {'a.png': (64, 64)})
    v15 = build(root, RobustDOTAv15Dataset)
    assert v15.metainfo['classes'] == DOTA_V15_CLASSES
    assert len(v15.metainfo['palette']) == 16
    labels = [i['bbox_label'] for i in infos(v15)[0]['instances']]
    assert labels == [0, 15]
    switched = build(root, metainfo=dict(classes=DOTA_V15_CLASSES))
    assert infos(switched) == infos(v15) and logs == []
    v1 = build(root)
    assert len(DOTA_V1_CLASSES) == 15
    assert [i['bbox_label'] for i in infos(v1)[0]['instances']] == [0]
    assert dict(v1.label_issues.counts) == {'unknown_class': 1}
    assert len(logs) == 1 and 'a.txt:2: unknown_class' in logs[0][0]


def test_bad_lines_skipped_counted_and_reported_once(tmp_path, logs):
    root = make_root(tmp_path, {'a': BAD_FILE}, {'a.png': (64, 64)})
    dataset = build(root, diff_thr=0)
    instances = infos(dataset)[0]['instances']
    # the good line and the partly outside box, kept unclipped
    assert [i['bbox'][0] for i in instances] == [10, -5]
    assert [i['ignore_flag'] for i in instances] == [0, 1]
    assert dict(dataset.label_issues.counts) == {r: 1 for r in BAD_LINES}
    assert len(logs) == 1
    msg, level = logs[0]
    assert level == logging.WARNING
    assert 'skipped 5' in msg and 'RobustDOTADataset' in msg
    for number, reason in enumerate(BAD_LINES, 5):
        assert f'a.txt:{number}: {reason}' in msg


@pytest.mark.parametrize('reason', list(BAD_LINES))
def test_error_mode_names_file_and_line(tmp_path, reason):
    root = make_root(tmp_path, {'a': [GOOD, BAD_LINES[reason]]},
                     {'a.png': (64, 64)})
    with pytest.raises(BadLabelError, match=rf'a\.txt:2: {reason}'):
        build(root, on_bad_label='error')


def test_image_and_file_problems(tmp_path, logs):
    jpg = cv2.imencode('.jpg', np.zeros((64, 64, 3), np.uint8))[1].tobytes()
    root = make_root(
        tmp_path, {
            'ok': [GOOD],
            'empty': [],
            'header_only': ['imagesource:GoogleEarth', 'gsd:null'],
            'no_image': [GOOD],
            'corrupt': [GOOD],
            'binary': b'\xff\xfe\x00\x81 plane',
            'twice': [GOOD],
        }, {
            'ok.png': (64, 64),
            'empty.png': (64, 64),
            'header_only.png': (64, 64),
            'corrupt.png': b'not an image',
            'binary.png': (64, 64),
            'no_label.png': (64, 64),
            'twice.png': (64, 64),
            'twice.jpg': jpg,
        })
    dataset = build(root)
    assert [d['img_id'] for d in infos(dataset)
            ] == ['empty', 'header_only', 'ok', 'twice']
    assert dict(dataset.label_issues.counts) == dict(
        missing_image=1,
        corrupt_image=1,
        unreadable_label=1,
        missing_label=1,
        duplicate_image=1)
    assert len(logs) == 1
    for case in ('no_image.txt: missing_image', 'corrupt.png: corrupt_image',
                 'no_label.png: missing_label', 'twice.jpg: duplicate_image',
                 'binary.txt: unreadable_label'):
        assert case in logs[0][0]
    # empty files are negative images: kept in test mode, filtered in train
    train = build(root, filter_cfg=dict(filter_empty_gt=True))
    assert [d['img_id'] for d in infos(train)] == ['ok', 'twice']
    with pytest.raises(BadLabelError, match=r'twice\.jpg: duplicate_image'):
        build(root, on_bad_label='error')


def test_decode_finds_truncated_image(tmp_path, logs):
    root = make_root(tmp_path, {
        'a': [GOOD],
        'b': [GOOD]
    }, {
        'a.jpg': (64, 64),
        'b.png': (64, 64)
    })
    path = osp.join(root, 'images', 'a.jpg')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    assert len(build(root)) == 2  # the header is intact
    decoded = build(root, check_images='decode')
    assert [d['img_id'] for d in infos(decoded)] == ['b']
    assert dict(decoded.label_issues.counts) == {'corrupt_image': 1}
    os.remove(osp.join(root, 'images', 'b.png'))
    with pytest.raises(ValueError, match='no image to load.*corrupt_image'):
        build(root, check_images='decode')


def test_images_only_test_mode(tmp_path, logs):
    root = make_root(tmp_path, {}, {'a.png': (64, 64), 'b.tif': (32, 48)})
    data = infos(build(root, ann_file='', test_mode=True))
    assert [(d['file_name'], d['height'], d['width'], d['instances'])
            for d in data] == [('a.png', 64, 64, []), ('b.tif', 32, 48, [])]


def test_missing_folders_and_bad_arguments(tmp_path):
    root = make_root(tmp_path, {}, {'a.png': (64, 64)})
    with pytest.raises(ValueError, match='no txt file'):
        build(root)
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build(root, ann_file='nowhere/')
    with pytest.raises(ValueError, match='on_bad_label'):
        build(root, on_bad_label='warn')
    with pytest.raises(ValueError, match='check_images'):
        build(root, check_images='full')


def test_drop_in_for_mmrotate(synthetic, logs):
    kwargs = dict(
        data_root=synthetic,
        ann_file='train/annfiles/',
        data_prefix=dict(img_path='train/images/'),
        filter_cfg=dict(filter_empty_gt=True))
    upstream = sorted(
        infos(DOTADataset(img_shape=(128, 128), **kwargs)),
        key=lambda d: d['img_id'])
    assert len(upstream) == 4
    assert infos(RobustDOTADataset(**kwargs)) == upstream
    # without opening images it reports img_shape, as mmrotate does
    upstream_default = sorted(
        infos(DOTADataset(**kwargs)), key=lambda d: d['img_id'])
    assert infos(RobustDOTADataset(check_images='exists',
                                   **kwargs)) == upstream_default
    assert isinstance(RobustDOTADataset(**kwargs), DOTADataset)
    assert logs == []


def test_registry_and_config_pipeline(synthetic):
    cfg = dict(
        data_root=synthetic,
        ann_file='val/annfiles/',
        data_prefix=dict(img_path='val/images/'))
    with DefaultScope.overwrite_default_scope('dkd_mm'):
        built = DATASETS.build(dict(type='RobustDOTAv15Dataset', **cfg))
    assert isinstance(built, RobustDOTAv15Dataset) and len(built) == 2
    for scope in ('mmrotate', 'mmdet'):
        with DefaultScope.overwrite_default_scope(scope):
            built = MMENGINE_DATASETS.build(
                dict(type='dkd_mm.RobustDOTADataset', **cfg))
        assert isinstance(built, RobustDOTADataset)
    for name, classes in (('dota_v1.py', DOTA_V1_CLASSES), ('dota_v15.py',
                                                            DOTA_V15_CLASSES)):
        cfg = Config.fromfile(osp.join(CONFIGS, name))
        loader = cfg.train_dataloader
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.update(
            data_root=synthetic,
            ann_file='train/annfiles/',
            data_prefix=dict(img_path='train/images/'))
        dataloader = Runner.build_dataloader(loader)
        assert dataloader.dataset.metainfo['classes'] == classes
        batch = next(iter(dataloader))
        assert batch['inputs'][0].shape[0] == 3
        boxes = batch['data_samples'][0].gt_instances.bboxes
        assert isinstance(boxes, RotatedBoxes) and len(boxes) > 0
