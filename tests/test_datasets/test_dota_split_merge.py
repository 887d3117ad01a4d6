"""DOTA split and merge: windows, iof rule, names, padding, resume, merging
back to the full images, and split -> train -> test -> merge -> mAP."""
import dkd_mm  # noqa: F401,I001  (Python 3.11 shim before mmrotate)

import importlib.util
import json
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from mmrotate.structures.bbox import qbox2rbox

from dkd_mm.datasets.dota import RobustDOTADataset
from dkd_mm.datasets.dota_merge import (PatchDetections, evaluate_merged,
                                        load_full_annotations,
                                        merge_patch_detections, write_task1)
from dkd_mm.datasets.dota_split import (SplitSettings, parse_patch_name,
                                        patch_name, sliding_windows,
                                        split_image)
from tests.test_tools.conftest import ROOT, run_tool, tiny_options

STUDENT = 'configs/students/rotated-retinanet_r18_fpn_synthetic.py'
CLASSES = ('plane', 'ship', 'storage-tank', 'small-vehicle', 'large-vehicle')
SMALL = SplitSettings(sizes=(128, ), gaps=(32, ))
# Windows of a 300x260 image at 128/32 (step 96): x 0, 96, 172 (the last
# shifted back to end at 300), y 0, 96, 132.
XS, YS = (0, 96, 172), (0, 96, 132)
LABELS = [
    'imagesource:GoogleEarth',
    'gsd:0.146',
    '10 10 40 10 40 30 10 30 plane 0',
    # x 80..120: 24/40 = 0.6 of it in the window at x=96: dropped there.
    '80 20 120 20 120 40 80 40 ship 0',
    # x 90..120: 24/30 = 0.8 in the window at x=96: kept, difficulty 2.
    '90 50 120 50 120 70 90 70 small-vehicle 1',
    '250 200 270 190 280 210 260 220 large-vehicle 0',
    '150 150 180 165 170 185 140 170 storage-tank 0',
]


def _write_sample(root: str) -> str:
    """Two 300x260 original-format DOTA images (.png, .jpg) with labels."""
    os.makedirs(osp.join(root, 'images'))
    os.makedirs(osp.join(root, 'labelTxt'))
    rng = np.random.default_rng(0)
    for name in ('P0001.png', 'P0002.jpg'):
        img = rng.integers(0, 255, (260, 300, 3), dtype=np.uint8)
        cv2.imwrite(osp.join(root, 'images', name), img)
        with open(osp.join(root, 'labelTxt', name[:5] + '.txt'), 'w') as f:
            f.write('\n'.join(LABELS) + '\n')
    return root


@pytest.fixture
def sample(tmp_path) -> str:
    return _write_sample(str(tmp_path / 'dota'))


def _load_tool(path: str):
    spec = importlib.util.spec_from_file_location('dota_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_ann(path: str) -> list:
    with open(path) as f:
        return [line.split() for line in f.read().splitlines()]


def test_patch_names_round_trip():
    assert patch_name('P0001', 1024, 0, 824) == 'P0001__1024__0___824'
    assert parse_patch_name('P0001__1024__0___824') == ('P0001', 1024, 0, 824)
    # mmrotate cuts the id at the first '__'; the offsets are the last fields
    assert parse_patch_name('a__b__682__10___20') == ('a__b', 682, 10, 20)
    with pytest.raises(ValueError, match='not a patch name'):
        parse_patch_name('P0001')


def test_sliding_windows_single_and_multi_scale():
    wins = sliding_windows(300, 260, SMALL.window_sizes())
    assert sorted(map(tuple, wins[:, :2].tolist())) == sorted(
        (x, y) for x in XS for y in YS)
    assert ((wins[:, 2:] - wins[:, :2]) == 128).all()
    # rates 0.5 and 1: 256 px windows (step 192) join the 128 px ones.
    multi = SplitSettings(sizes=(128, ), gaps=(32, ), rates=(0.5, 1.0))
    assert multi.window_sizes() == [(256, 64), (128, 32)]
    wins = sliding_windows(300, 260, multi.window_sizes())
    big = sorted(map(tuple, wins[wins[:, 2] - wins[:, 0] == 256, :2]))
    assert len(wins) == 13 and big == [(0, 0), (0, 4), (44, 0), (44, 4)]
    # An image smaller than the window: one window, at 0 (then padded).
    assert sliding_windows(100, 90, [(128, 32)]).tolist() == [[0, 0, 128, 128]]
    with pytest.raises(ValueError, match='gap < size'):
        SplitSettings(sizes=(128, ), gaps=(128, ))


def test_split_keeps_objects_by_iof(sample, tmp_path):
    out = str(tmp_path / 'out')
    for sub in ('images', 'annfiles'):
        os.makedirs(osp.join(out, sub))
    result = split_image(
        osp.join(sample, 'images', 'P0001.png'),
        osp.join(sample, 'labelTxt', 'P0001.txt'), out, SMALL)
    assert sorted(result.patches) == sorted(f'P0001__128__{x}___{y}'
                                            for x in XS for y in YS)
    assert result.num_objects == 5 and len(result.issues) == 0
    first = _read_ann(osp.join(out, 'annfiles', 'P0001__128__0___0.txt'))
    assert [(r[8], r[9]) for r in first] == [('plane', '0'), ('ship', '0'),
                                             ('small-vehicle', '1')]
    # The neighbour: the ship (iof 0.6) is dropped, the small vehicle
    # (iof 0.8) is kept whole, in patch coordinates, with difficulty 2.
    second = _read_ann(osp.join(out, 'annfiles', 'P0001__128__96___0.txt'))
    assert second == [[
        '-6', '50', '24', '50', '24', '70', '-6', '70', 'small-vehicle', '2'
    ]]
    patch = cv2.imread(osp.join(out, 'images', 'P0001__128__172___132.png'))
    full = cv2.imread(osp.join(sample, 'images', 'P0001.png'))
    assert (patch == full[132:260, 172:300]).all()
    # A lower threshold keeps the ship (0.6 of it) in the neighbour too.
    low = SplitSettings(sizes=(128, ), gaps=(32, ), iof_thr=0.5)
    split_image(
        osp.join(sample, 'images', 'P0001.png'),
        osp.join(sample, 'labelTxt', 'P0001.txt'), out, low)
    second = _read_ann(osp.join(out, 'annfiles', 'P0001__128__96___0.txt'))
    assert [(r[8], r[9]) for r in second] == [('ship', '2'),
                                              ('small-vehicle', '2')]


def test_split_pads_small_images_and_drops_bad_input(tmp_path):
    root, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    for sub in (osp.join(root, 'img'), osp.join(root, 'ann'),
                osp.join(out, 'images'), osp.join(out, 'annfiles')):
        os.makedirs(sub)
    img = np.full((90, 100, 3), 7, np.uint8)
    cv2.imwrite(osp.join(root, 'img', 'small.tif'), img)
    with open(osp.join(root, 'ann', 'small.txt'), 'w') as f:
        f.write('gsd:null\n10 10 30 10 30 30 10 30 plane\n10 10 30 oops\n'
                '5 5 5 5 5 5 5 5 ship 0\n')
    result = split_image(
        osp.join(root, 'img', 'small.tif'), osp.join(root, 'ann', 'small.txt'),
        out, SMALL)
    assert result.patches == ['small__128__0___0']
    patch = cv2.imread(osp.join(out, 'images', 'small__128__0___0.png'))
    assert patch.shape == (128, 128, 3)
    assert (patch[:90, :100] == 7).all()
    assert (patch[90:] == (104, 116, 124)).all()  # BGR padding value
    assert (patch[:, 100:] == (104, 116, 124)).all()
    assert dict(result.issues.counts) == {'malformed': 1, 'degenerate': 1}
    lines = _read_ann(osp.join(out, 'annfiles', 'small__128__0___0.txt'))
    assert lines == [[
        '10', '10', '30', '10', '30', '30', '10', '30', 'plane', '0'
    ]]  # a missing difficulty is 0
    os.remove(osp.join(root, 'ann', 'small.txt'))
    result = split_image(
        osp.join(root, 'img', 'small.tif'), osp.join(root, 'ann', 'small.txt'),
        out, SMALL)
    assert result.patches == [] and result.issues.counts['missing_label'] == 1


@pytest.mark.slow
def test_split_tool_names_dataset_and_resume(sample, tmp_path, capsys):
    out = str(tmp_path / 'split')
    args = [
        '--img-dirs',
        osp.join(sample, 'images'), '--ann-dirs',
        osp.join(sample, 'labelTxt'), '--save-dir', out, '--sizes', '128',
        '--gaps', '32'
    ]
    log = run_tool(['tools/data/dota/split.py', '--nproc', '2'] + args)
    assert '0 already split, 2 to split' in log
    names = sorted(os.listdir(osp.join(out, 'images')))
    assert names == sorted(f'{i}__128__{x}___{y}.png'
                           for i in ('P0001', 'P0002') for x in XS for y in YS)
    dataset = RobustDOTADataset(
        data_root=out,
        ann_file='annfiles/',
        data_prefix=dict(img_path='images/'),
        metainfo=dict(classes=CLASSES),
        pipeline=[])
    assert len(dataset) == 18 and len(dataset.label_issues) == 0
    assert dataset[0]['height'] == dataset[0]['width'] == 128

    tool = _load_tool(osp.join(ROOT, 'tools', 'data', 'dota', 'split.py'))
    done = osp.join(out, 'split_done.jsonl')
    with open(done) as f:
        entries = f.read().splitlines()
    first = [e for e in entries if '"P0001"' in e][0]

    def mtimes(img_id: str) -> dict:
        return {
            n: os.stat(osp.join(out, 'images', n)).st_mtime_ns
            for n in names if n.startswith(img_id)
        }

    # Killed after P0001 was recorded, in the middle of P0002.
    with open(done, 'w') as f:
        f.write(first + '\n{"img_id": "P00')
    os.remove(osp.join(out, 'images', 'P0002__128__172___132.png'))
    before = mtimes('P0001')
    capsys.readouterr()
    tool.main(args + ['--nproc', '1'])
    assert '1 already split, 1 to split' in capsys.readouterr().out
    assert mtimes('P0001') == before
    assert sorted(os.listdir(osp.join(out, 'images'))) == names
    # A patch deleted later: only its image is split again.
    os.remove(osp.join(out, 'annfiles', 'P0001__128__0___0.txt'))
    before = mtimes('P0002')
    tool.main(args + ['--nproc', '1'])
    assert '1 already split, 1 to split' in capsys.readouterr().out
    assert mtimes('P0002') == before
    assert osp.isfile(osp.join(out, 'annfiles', 'P0001__128__0___0.txt'))
    tool.main(args + ['--nproc', '1'])
    assert '2 already split, 0 to split' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='other settings'):
        tool.main(args[:-1] + ['48'])


def _detections_from_split(out: str) -> list:
    """The split's own labels as detections: every object at each patch
    that kept it, in patch coordinates, duplicated across overlaps."""
    rng = np.random.default_rng(0)
    patches = []
    for name in sorted(os.listdir(osp.join(out, 'annfiles'))):
        rows = _read_ann(osp.join(out, 'annfiles', name))
        qboxes = torch.tensor([[float(v) for v in r[:8]] for r in rows])
        patches.append(
            PatchDetections(
                name[:-4],
                qbox2rbox(qboxes.reshape(-1, 8)).numpy(),
                rng.uniform(0.5, 1, len(rows)).astype(np.float32),
                np.array([CLASSES.index(r[8]) for r in rows], np.int64)))
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
    ship = _read_ann(files[1])
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
        for row in _read_ann(osp.join(task1, f'Task1_{c}.txt'))
    ]
    assert len(rows) == int(merged.group(1))
    assert all(r[0] in ('P0001', 'P0002') and len(r) == 10 for r in rows)
