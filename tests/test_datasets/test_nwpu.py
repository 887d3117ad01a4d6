import dkd_mm  # noqa: F401 isort: skip (Python 3.11 shim before mmrotate)

import glob
import logging
import os
import os.path as osp
import runpy

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import METRICS
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from mmrotate.structures import RotatedBoxes

from dkd_mm.datasets.nwpu import NWPU_CLASSES, NWPUVHR10Dataset
from dkd_mm.testing._utils import REPO_ROOT
from dkd_mm_data.labels import BadLabelError, issues, parse_nwpu_line

REPO = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = osp.join(REPO, 'configs', '_base_', 'datasets', 'nwpu_vhr10.py')
TOOLS = osp.join(REPO, 'tools', 'data', 'nwpu')
POS, NEG, GT = 'positive image set', 'negative image set', 'ground truth'


def tool(name: str) -> dict:
    return runpy.run_path(osp.join(TOOLS, name), run_name='tool')


@pytest.fixture(scope='module')
def sample(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('nwpu'))
    tool('make_sample.py')['main']([root, '--no-progress'])
    tool('make_split.py')['main']([root])
    return root


@pytest.fixture
def logs(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr(issues, 'print_log',
                        lambda msg, logger, level: calls.append((msg, level)))
    return calls


def infos(dataset) -> list:
    out = [dataset.get_data_info(i) for i in range(len(dataset))]
    return [{k: v for k, v in d.items() if k != 'sample_idx'} for d in out]


def make_root(tmp_path, gts: dict, pos=(), neg=(), split=None) -> str:
    """gts: stem -> text (or bytes); pos/neg: stems (or stem -> bytes)."""
    for folder in (POS, NEG, GT):
        os.makedirs(tmp_path / folder)
    for stem, text in gts.items():
        path = tmp_path / GT / f'{stem}.txt'
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    image = cv2.imencode('.jpg', np.full((64, 80, 3), 90, np.uint8))[1]
    for folder, stems in ((POS, pos), (NEG, neg)):
        for stem in stems:
            data = stems[stem] if isinstance(stems, dict) else None
            (tmp_path / folder / f'{stem}.jpg'
             ).write_bytes(bytes(image) if data is None else data)
    if split is not None:
        (tmp_path / 'split.txt').write_text(split)
    return str(tmp_path)


def test_sample_and_split(sample, tmp_path):
    counts = {}
    for split in ('train', 'val', 'test'):
        with open(osp.join(sample, 'splits', f'{split}.txt')) as f:
            counts[split] = f.read().split()
    entries = sum(counts.values(), [])
    assert sorted(entries) == sorted([f'{i:03d}' for i in range(1, 13)] +
                                     [f'negative/{i:03d}' for i in (1, 2, 3)])
    negatives = {s: sum('/' in e for e in v) for s, v in counts.items()}
    assert {
        s: len(v)
        for s, v in counts.items()
    } == dict(
        train=9, val=3, test=3)
    assert negatives == dict(train=2, val=0, test=1)  # 3 split 0.6/0.2/0.2
    make_split = tool('make_split.py')['make_split']
    again = make_split(sample, str(tmp_path / 'a'), seed=0)
    assert again == counts
    assert make_split(sample, str(tmp_path / 'b'), seed=1) != counts
    with pytest.raises(ValueError, match='ratios'):
        make_split(sample, str(tmp_path / 'c'), ratios=(0.5, 0.2, 0.2))
    # the sample is seeded: the same seed writes the same bytes
    tool('make_sample.py')['make_nwpu_sample'](
        str(tmp_path / 's'), progress=False)
    for name in (f'{POS}/004.jpg', f'{GT}/004.txt', f'{NEG}/002.jpg'):
        with open(osp.join(sample, name), 'rb') as f1, \
                open(osp.join(tmp_path, 's', name), 'rb') as f2:
            assert f1.read() == f2.read()


def test_dataset_reads_split_and_negatives(sample, logs):
    train = NWPUVHR10Dataset(data_root=sample, ann_file='splits/train.txt')
    data = infos(train)
    assert [d['img_id'] for d in data][-2:] == ['negative/002', 'negative/003']
    assert all(d['instances'] == [] for d in data[-2:])
    first = data[0]
    assert first['file_name'] == f'{POS}/001.jpg'
    img = cv2.imread(first['img_path'])
    assert (first['height'], first['width']) == img.shape[:2]
    with open(osp.join(sample, GT, '001.txt')) as f:
        lines = [parse_nwpu_line(line) for line in f]
    assert lines[-1] is None  # a blank line ends each file
    assert first['instances'] == [
        dict(bbox=box, bbox_label=cls - 1, ignore_flag=0)
        for box, cls in lines[:-1]
    ]
    everything = NWPUVHR10Dataset(data_root=sample)
    labels = {
        i['bbox_label']
        for d in infos(everything)
        for i in d['instances']
    }
    assert len(everything) == 15 and labels == set(range(10))
    filtered = NWPUVHR10Dataset(
        data_root=sample,
        ann_file='splits/train.txt',
        filter_cfg=dict(filter_empty_gt=True))
    assert len(filtered) == 7
    assert logs == [] and len(train.label_issues) == 0


def test_bad_input_skipped_and_reported_once(tmp_path, logs):
    gt = '\n'.join([
        '(10,10),(30,30),1',  # 1: kept
        '',
        '(10,10),(30,30)',  # 3: malformed
        '(10,1O),(30,30),2',  # 4: non_numeric
        '(10,10),(30,30),0',  # 5: unknown_class
        '(10,10),(30,30),11',  # 6: unknown_class
        '(10,10),(10,30),3',  # 7: degenerate
        '(90,10),(99,30),4',  # 8: outside (the image is 80 wide)
        '(70,50),(95,70),5\r',  # 9: partly outside, kept
    ]) + '\n\n'
    split = '\n'.join([
        '001', '', '# comment', 'negative/001', '002', '003', '004', 'missing',
        'elsewhere/001', '001.jpg', 'positive/005'
    ])
    root = make_root(
        tmp_path, {
            '001': gt,
            '002': '',
            '004': b'\xff\xfe(1,1),(9,9),1'
        },
        pos={
            '001': None,
            '002': None,
            '003': None,
            '004': None,
            '005': b'garbage'
        },
        neg=['001'],
        split=split)
    dataset = NWPUVHR10Dataset(data_root=root, ann_file='split.txt')
    data = infos(dataset)
    assert [d['img_id'] for d in data] == ['001', 'negative/001', '002']
    assert [i['bbox'] for i in data[0]['instances']] == [[10, 10, 30, 30],
                                                         [70, 50, 95, 70]]
    assert data[2]['instances'] == []  # an empty file: a negative image
    assert dict(dataset.label_issues.counts) == dict(
        malformed=3,
        non_numeric=1,
        unknown_class=2,
        degenerate=1,
        outside=1,
        missing_label=1,
        unreadable_label=1,
        missing_image=1,
        corrupt_image=1)
    assert len(logs) == 1 and logs[0][1] == logging.WARNING
    for case in ('001.txt:3: malformed', '001.txt:4: non_numeric',
                 '001.txt:5: unknown_class', '001.txt:7: degenerate',
                 '001.txt:8: outside', 'split.txt:8: missing_image',
                 'split.txt:9: malformed', 'split.txt:10: malformed',
                 '003.jpg: missing_label', '004.txt: unreadable_label',
                 '005.jpg: corrupt_image'):
        assert case in logs[0][0], case
    # the split is read first, so its first bad line stops the load
    with pytest.raises(BadLabelError, match=r'split\.txt:9: malformed'):
        NWPUVHR10Dataset(
            data_root=root, ann_file='split.txt', on_bad_label='error')


def test_all_images_without_split(tmp_path, logs):
    root = make_root(
        tmp_path, {
            '001': '(1,1),(9,9),1\r\n\r\n',
            'orphan': '(1,1),(9,9),2\n'
        },
        pos=['001'],
        neg=['001'])
    dataset = NWPUVHR10Dataset(data_root=root)
    assert [d['img_id'] for d in infos(dataset)] == ['001', 'negative/001']
    assert dict(dataset.label_issues.counts) == {'missing_image': 1}
    assert 'orphan.txt: missing_image' in logs[0][0]


def test_class_subset_keeps_its_own_labels(tmp_path, logs):
    root = make_root(
        tmp_path, {'001': '(1,1),(9,9),2\n(1,1),(9,9),10\n(1,1),(9,9),1\n'},
        pos=['001'])
    dataset = NWPUVHR10Dataset(
        data_root=root, metainfo=dict(classes=('ship', 'vehicle')))
    labels = [i['bbox_label'] for i in infos(dataset)[0]['instances']]
    assert labels == [0, 1]
    assert 'unknown_class (class id 1 (airplane)' in logs[0][0]


def test_rotated_recipes_give_the_same_boxes(sample):
    load = dict(type='mmdet.LoadAnnotations', with_bbox=True)
    to_rbox = dict(
        type='mmrotate.ConvertBoxType',
        box_type_mapping=dict(gt_bboxes='rbox'))
    horizontal = NWPUVHR10Dataset(data_root=sample)
    qbox = NWPUVHR10Dataset(data_root=sample, rotated=True)
    assert qbox.get_data_info(0)['instances'][0]['bbox'] == [
        107.0, 147.0, 143.0, 147.0, 143.0, 183.0, 107.0, 183.0
    ]
    via_hbox = Compose([dict(load, box_type='hbox'), to_rbox])
    via_qbox = Compose([dict(load, box_type='qbox'), to_rbox])
    for i in (0, 5, 13):
        ref = Compose([load])(horizontal.get_data_info(i))['gt_bboxes']
        assert isinstance(ref, HorizontalBoxes)
        for results in (via_hbox(horizontal.get_data_info(i)),
                        via_qbox(qbox.get_data_info(i))):
            boxes = results['gt_bboxes']
            assert isinstance(boxes, RotatedBoxes)
            assert len(boxes) == len(ref)
            assert torch.allclose(
                boxes.convert_to('hbox').tensor, ref.tensor, atol=1e-3)
            assert (results['gt_bboxes_labels'] == np.array([
                i['bbox_label']
                for i in horizontal.get_data_info(i)['instances']
            ])).all()
    assert len(via_hbox(horizontal.get_data_info(14))['gt_bboxes']) == 0


def test_config_pipeline_and_voc_metric(sample):
    cfg = Config.fromfile(CONFIG)
    # The base file's `nwpu_*` names, as a config takes them whole
    # (`train_dataloader = {{_base_.nwpu_train_dataloader}}`), with the
    # `_delete_` marker that replaces upstream's loaders removed.
    loaders = {}
    for name in ('train', 'test'):
        loader = cfg[f'nwpu_{name}_dataloader'].copy()
        loader.pop('_delete_')
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.data_root = sample
        loaders[name] = loader
    evaluator = cfg.nwpu_val_evaluator.copy()
    evaluator.pop('_delete_', None)
    train = Runner.build_dataloader(loaders['train'])
    assert len(train.dataset) == 7  # empty images filtered for training
    batch = next(iter(train))
    boxes = batch['data_samples'][0].gt_instances.bboxes
    assert isinstance(boxes, HorizontalBoxes) and len(boxes) > 0

    test = Runner.build_dataloader(loaders['test'])
    assert len(test.dataset) == 3
    metric = METRICS.build(evaluator)
    assert metric.eval_mode == 'area'
    metric.dataset_meta = test.dataset.metainfo
    for batch in test:
        for data_sample in batch['data_samples']:
            gt = data_sample.gt_instances
            gt.bboxes = gt.bboxes.tensor
            data_sample.pred_instances = InstanceData(
                bboxes=gt.bboxes.clone(),
                labels=gt.labels.clone(),
                scores=torch.ones(len(gt.labels)))
            data_sample.ignored_instances.bboxes = torch.zeros(0, 4)
            metric.process({}, [data_sample.to_dict()])
    assert metric.evaluate(len(test.dataset))['pascal_voc/mAP'] == 1.0
    assert NWPU_CLASSES == tuple(test.dataset.metainfo['classes'])


@pytest.mark.parametrize(
    'config',
    sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*nwpu*', '*_r50_*.py'))),
    ids=osp.basename)
def test_test_evaluator_is_the_nwpu_metric_alone(config):
    # `test_evaluator = val_evaluator` once merged VOCMetric into the
    # upstream COCO config's CocoMetric arguments (ann_file, format_only),
    # which VOCMetric refuses: tools/test.py failed on every NWPU teacher.
    cfg = Config.fromfile(config)
    expected = dict(type='mmdet.VOCMetric', metric='mAP', eval_mode='area')
    assert dict(cfg.val_evaluator) == expected
    assert dict(cfg.test_evaluator) == expected
