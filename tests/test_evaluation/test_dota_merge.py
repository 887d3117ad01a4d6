"""Merging patch detections back to the full DOTA images, the Task1 files,
the full-image mAP, and split -> train -> test -> merge -> mAP."""
import dkd_mm  # noqa: F401 isort: skip (Python 3.11 shim before mmrotate)

import json
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmrotate.structures.bbox import qbox2rbox

from dkd_mm.evaluation import (PatchDetections, evaluate_merged,
                               load_full_annotations, merge_patch_detections,
                               write_task1)
from dkd_mm_data.dota_split import split_image
from dkd_mm_data.labels import LabelIssues, read_dota_labels
from tests.test_datasets.dota_sample import (CLASSES, SMALL, read_fields,
                                             write_sample)
from tests.test_tools.conftest import run_tool, tiny_options

STUDENT = 'configs/rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'


@pytest.fixture
def sample(tmp_path) -> str:
    return write_sample(str(tmp_path / 'dota'))


def _detections_from_split(out: str) -> list:
    """The split's own labels as detections: every object at each patch
    that kept it, in patch coordinates, duplicated across overlaps."""
    rng = np.random.default_rng(0)
    patches = []
    for name in sorted(os.listdir(osp.join(out, 'annfiles'))):
        labels = read_dota_labels(
            osp.join(out, 'annfiles', name),
            LabelIssues('error'),
            classes=CLASSES)
        qboxes = torch.from_numpy(labels.polys).float()
        patches.append(
            PatchDetections(
                name[:-4],
                qbox2rbox(qboxes).numpy(),
                rng.uniform(0.5, 1, len(labels.classes)).astype(np.float32),
                np.array([CLASSES.index(c) for c in labels.classes],
                         np.int64)))
    return patches


def test_merge_of_ground_truth_patches_gives_map_one(sample, tmp_path):
    out = str(tmp_path / 'split')
    for sub in ('images', 'annfiles'):
        os.makedirs(osp.join(out, sub))
    for img_id, ext in (('P0001', '.png'), ('P0002', '.jpg')):
        split_image(
            osp.join(sample, 'images', img_id + ext),
            osp.join(sample, 'labelTxt', img_id + '.txt'), out, SMALL)
    patches = _detections_from_split(out)
    assert sum(len(p.labels) for p in patches) > 10  # 5 objects per image
    merged = merge_patch_detections(patches, len(CLASSES))
    assert sorted(merged) == ['P0001', 'P0002']
    assert [len(d) for d in merged['P0001']] == [1, 1, 1, 1, 1]
    plane = merged['P0001'][0][0]  # back in full-image pixels
    np.testing.assert_allclose(plane[:2], [25, 20], atol=1e-3)
    assert sorted(plane[2:4].tolist()) == [20, 30]  # minAreaRect order

    files = write_task1(merged, CLASSES, str(tmp_path / 'task1'))
    assert [osp.basename(f)
            for f in files] == [f'Task1_{c}.txt' for c in CLASSES]
    assert osp.isfile(str(tmp_path / 'task1' / 'Task1.zip'))
    ship = read_fields(files[1])
    assert [r[0] for r in ship] == ['P0001', 'P0002'] and len(ship[0]) == 10
    corners = np.array(ship[0][2:], float).reshape(4, 2)
    assert corners.min(0).tolist() == [80, 20]
    assert corners.max(0).tolist() == [120, 40]

    annotations = load_full_annotations(osp.join(sample, 'labelTxt'), CLASSES)
    mean_ap, results = evaluate_merged(merged, annotations, CLASSES, nproc=1)
    assert mean_ap == pytest.approx(1.0)
    assert [r['num_gts'] for r in results] == [2, 2, 2, 2, 2]


@pytest.mark.slow
def test_split_train_test_merge_evaluate_end_to_end(sample, tmp_path):
    root = str(tmp_path / 'split_root')
    run_tool([
        'tools/data/dota/split.py', '--img-dirs',
        osp.join(sample, 'images'), '--ann-dirs',
        osp.join(sample, 'labelTxt'), '--save-dir',
        osp.join(root, 'train'), '--sizes', '128', '--gaps', '32'
    ])
    data = tiny_options(root, 2) + ['train_cfg.val_interval=100'] + [
        f'{loader}.dataset.{key}=train/{sub}/'
        for loader in ('val_dataloader', 'test_dataloader')
        for key, sub in (('ann_file', 'annfiles'),
                         ('data_prefix.img_path', 'images'))
    ]
    work_dir = str(tmp_path / 'work')
    log = run_tool(
        ['tools/train.py', STUDENT, '--work-dir', work_dir, '--cfg-options'] +
        data)
    assert 'Iter(train) [2/2]' in log
    preds = str(tmp_path / 'preds.pkl')
    # After 2 iterations no score passes 0.05: keep 50 boxes per patch so
    # that the merge has overlapping detections to suppress (nms_pre keeps
    # the patches' own CPU NMS short).  The patches are not evaluated
    # (format_only): the merged full images are.
    run_tool([
        'tools/test.py', STUDENT,
        osp.join(work_dir, 'iter_2.pth'), '--work-dir', work_dir, '--out',
        preds, '--cfg-options', 'model.test_cfg.score_thr=0.0',
        'model.test_cfg.max_per_img=50', 'model.test_cfg.nms_pre=100',
        'test_evaluator.format_only=True',
        f'test_evaluator.outfile_prefix={tmp_path}/patches'
    ] + data)
    task1, metrics = str(tmp_path / 'task1'), str(tmp_path / 'merged.json')
    log = run_tool([
        'tools/data/dota/merge.py', preds, '--out-dir', task1, '--config',
        STUDENT, '--ann-dir',
        osp.join(sample, 'labelTxt'), '--metrics-out', metrics, '--nproc', '1'
    ])
    merged = re.search(r'Merged 18 patches into 2 images, (\d+) det', log)
    assert merged and 0 < int(merged.group(1)) < 18 * 50  # NMS across patches
    assert 'merged mAP@0.5' in log
    assert sorted(
        os.listdir(task1)) == sorted(['Task1.zip'] +
                                     [f'Task1_{c}.txt' for c in CLASSES])
    with open(metrics) as f:
        result = json.load(f)
    # The json holds the printed mAP, the mean AP over the classes (each
    # has ground truth in the sample), one AP per class.
    assert sorted(result) == sorted(['mAP'] + [f'AP_{c}' for c in CLASSES])
    assert result['mAP'] == pytest.approx(
        sum(result[f'AP_{c}'] for c in CLASSES) / len(CLASSES))
    assert f"merged mAP@0.5: {result['mAP']:.4f} on 2 full images" in log
    rows = [
        row for c in CLASSES
        for row in read_fields(osp.join(task1, f'Task1_{c}.txt'))
    ]
    assert len(rows) == int(merged.group(1))
    assert all(r[0] in ('P0001', 'P0002') and len(r) == 10 for r in rows)
