"""tools/analysis/image_demo.py: a checkpoint trained here (one DKD
iteration of the benchmark pair on the tiny data) drawn on an image, a
3072 x 2048 px synthetic scene by patches, and patch merging worked by
hand."""
import argparse
import importlib.util
import os.path as osp
import re
from typing import List

import cv2
import numpy as np
import pytest
import torch
from mmcv.ops import box_iou_rotated
from mmdet.structures import DetDataSample
from mmengine.config import DictAction
from mmengine.structures import InstanceData
from mmrotate.structures.bbox import RotatedBoxes

from bench.runs import pair_options
from dkd_mm.datasets.synthetic import SyntheticDOTAConfig, render_image
from dkd_mm.utils import extract_student
from .conftest import ROOT, run_tool, tiny_options

DKD = 'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py'
# The DKD config's student (TSA box loss), as tools/test.py tests it.
STUDENT = ('configs/rotated_retinanet/'
           'rotated-retinanet_r18_fpn_tsa_synthetic.py')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'image_demo', osp.join(ROOT, 'tools', 'analysis', 'image_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def checkpoints(tiny_data, tmp_path_factory) -> dict:
    """A DKD checkpoint of one training iteration (random teacher) and the
    student extracted from it."""
    work_dir = tmp_path_factory.mktemp('dkd_run')
    run_tool(
        ['tools/train.py', DKD, '--work-dir',
         str(work_dir), '--cfg-options'] + tiny_options(tiny_data, 1) +
        pair_options(True) +
        ['train_cfg.val_interval=100', 'model.teacher_ckpt=None'])
    dkd = str(work_dir / 'iter_1.pth')
    student = str(work_dir / 'student.pth')
    extract_student(dkd, student)
    return dict(dkd=dkd, student=student)


def _options(config: str) -> List[str]:
    """--cfg-options: the benchmark pair's student width (bench/runs.py)
    and every score."""
    prefix = 'model.student.' if config == DKD else 'model.'
    return [o for o in pair_options(config == DKD) if o.startswith(prefix)
            ] + [f'{prefix}test_cfg.score_thr=0.0']


def _parsed(options: List[str]) -> dict:
    """``options`` as tools parse them (mmengine's DictAction)."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options'] + options).cfg_options


def _tensor(boxes) -> torch.Tensor:
    return getattr(boxes, 'tensor', boxes)  # RotatedBoxes or a tensor


def _corners(boxes: torch.Tensor) -> torch.Tensor:
    """``(K, 4)`` x1, y1, x2, y2 of ``(K, 5)`` boxes of angle 0."""
    return torch.cat(
        [boxes[:, :2] - boxes[:, 2:4] / 2, boxes[:, :2] + boxes[:, 2:4] / 2],
        1)


def _scene(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """A mosaic of ``rows`` x ``cols`` of the synthetic renderer's 256 px
    test scenes (objects at the size the configs train at), BGR."""
    cfg = SyntheticDOTAConfig(
        num_train=0, num_val=0, num_test=rows * cols, img_size=256, seed=seed)
    scenes = [render_image(cfg, 'test', i).image for i in range(rows * cols)]
    mosaic = np.vstack(
        [np.hstack(scenes[r * cols:(r + 1) * cols]) for r in range(rows)])
    return np.ascontiguousarray(mosaic[..., ::-1])


@pytest.mark.slow
def test_draws_an_image_of_the_input_size(checkpoints, tmp_path):
    img = _scene(1, 1)[:200, :240]  # not square, not the pipeline's 256
    src, out = str(tmp_path / 'in.png'), str(tmp_path / 'out' / 'drawn.png')
    cv2.imwrite(src, img)
    log = run_tool([
        'tools/analysis/image_demo.py', DKD, checkpoints['dkd'], src,
        '--out-file', out, '--device', 'cpu', '--score-thr', '0',
        '--cfg-options'
    ] + _options(DKD))
    assert f'the student of {DKD} on cpu, a 240x200 image' in log
    drawn = cv2.imread(out)
    assert drawn.shape == img.shape
    # every detection drawn (score >= 0: every prior's score reaches NMS,
    # those of a one-step model are near the classifier's 0.01 prior)
    kept, total = re.search(
        rf'(\d+) detections with score >= 0.0 \((\d+) in all\) drawn on '
        f'{out}', log).groups()
    assert kept == total and int(kept) > 0
    assert (np.abs(drawn.astype(int) - img).max(-1) > 60).sum() > 500


def test_missing_files_and_unreadable_images_are_named(tool, tmp_path, capsys):
    with pytest.raises(SystemExit):
        tool.main([DKD, str(tmp_path / 'none.pth'), 'x.png'])
    assert 'checkpoint file not found: ' in capsys.readouterr().err
    bad = tmp_path / 'bad.png'
    bad.write_text('not an image')
    with pytest.raises(SystemExit, match=f'cannot read image {bad}'):
        tool.main([DKD, str(bad), str(bad)])  # read before the model


@pytest.mark.slow
def test_dkd_and_extracted_student_detect_the_same(tool, checkpoints):
    # The DKD config runs its student: with the DKD checkpoint or the
    # extracted one, as the student's own config does.
    img = _scene(1, 1, seed=1)
    found = {}
    for config in (DKD, STUDENT):
        cfg, role = tool.detector_config(config, _parsed(_options(config)))
        assert role == ('student' if config == DKD else 'model')
        pipeline = tool.test_pipeline(cfg)
        for name, ckpt in checkpoints.items():
            model = tool.init_model(cfg, ckpt, 'cpu')
            assert model.dataset_meta['classes'][0] == 'plane'
            pred = tool.inference_detector(model, img, pipeline)
            found[config, name] = pred.pred_instances
    reference = found[STUDENT, 'student']
    assert len(reference) > 0
    for pred in found.values():
        assert torch.equal(_tensor(pred.bboxes), _tensor(reference.bboxes))
        assert torch.equal(pred.scores, reference.scores)
        assert torch.equal(pred.labels, reference.labels)


@pytest.mark.slow
def test_patches_of_a_large_scene_merge_in_its_frame(tool, checkpoints,
                                                     monkeypatch):
    img = _scene(8, 12)  # 3072 x 2048 px
    cfg, _ = tool.detector_config(DKD, _parsed(_options(DKD)))
    model = tool.init_model(cfg, checkpoints['dkd'], 'cpu')
    seen, lines = [], []
    detect = tool.inference_detector

    def spy(model, patch, test_pipeline):
        seen.append(detect(model, patch, test_pipeline).pred_instances)
        return DetDataSample(pred_instances=seen[-1])

    monkeypatch.setattr(tool, 'inference_detector', spy)
    merged = tool.detect_by_patches(model, img, tool.test_pipeline(cfg), 1024,
                                    200, 0.1, lines.append)
    # Windows start at x = 0, 824, 1648 and 3072 - 1024 = 2048, at y = 0,
    # 824 and 2048 - 1024 = 1024.
    _, windows = tool.patch_windows(3072, 2048, 1024, 200)
    offsets = [tuple(w[:2]) for w in windows]
    assert sorted(offsets) == [(x, y) for x in (0, 824, 1648, 2048)
                               for y in (0, 824, 1024)]
    assert lines[-1] == f'patch 12/12 at x={offsets[-1][0]} ' \
        f'y={offsets[-1][1]}: {len(seen[-1])} detections'
    boxes = _tensor(merged.bboxes)
    assert 0 < len(merged) < sum(len(p) for p in seen)
    assert ((boxes[:, :2] >= 0) &
            (boxes[:, :2] <= torch.tensor([3072, 2048]))).all()
    # from the far patches, moved there
    assert (boxes[:, 0] > 2048 + 200).any() and (boxes[:, 1] > 1224).any()
    # The best detection of all patches survives the merge, moved by the
    # offset of its patch.
    best = max(range(len(seen)), key=lambda i: seen[i].scores.max())
    top = seen[best][int(seen[best].scores.argmax())]
    shifted = _tensor(top.bboxes)[0] + torch.tensor([*offsets[best], 0, 0, 0])
    assert torch.allclose(boxes[0], shifted)
    assert merged.scores[0] == top.scores[0]
    assert merged.labels[0] == top.labels[0]
    # Rotated NMS at 0.1: no two kept boxes of a class overlap more.
    for label in merged.labels.unique():
        same = boxes[merged.labels == label]
        ious = box_iou_rotated(same, same).fill_diagonal_(0)
        assert ious.max() <= 0.1 + 1e-4


@pytest.mark.parametrize('rotated', [True, False])
def test_patch_merge_worked_by_hand(tool, monkeypatch, rotated):
    # A 1800 x 1000 image in 1024 px patches with a 200 px gap: windows at
    # x = 0 and 1800 - 1024 = 776 (824 would reach past the border), both
    # at y = 0 and padded from 1000 to 1024 rows.  Per patch, local
    # (cx, cy, w, h, angle), score, label:
    #   (0, 0):   A (900, 500, 60, 20) 0.9 'b'; B (100, 100, 40, 40) 0.8 'a'
    #   (776, 0): A again (124, 500, 58, 20) 0.7 'b', i.e. x 900: dropped
    #             by the rotated NMS (IoU 58/60 with A); C (500, 300, 30,
    #             30) 0.6 'b' -> x 1276; D where A is, 0.5 'a': kept (NMS
    #             is per class).
    angle = 0.3 if rotated else 0.0
    outputs = {  # patch x -> [(box, score, label)]
        0: [([900, 500, 60, 20, angle], .9, 1),
            ([100, 100, 40, 40, 0], .8, 0)],
        776: [([124, 500, 58, 20, angle], .7, 1),
              ([500, 300, 30, 30, angle], .6, 1),
              ([124, 500, 58, 20, angle], .5, 0)],
    }
    img = np.random.RandomState(0).randint(0, 255, (1000, 1800, 3), np.uint8)
    crops = []

    def fake(model, patch, test_pipeline):
        dets = outputs[0 if not crops else 776]
        crops.append(patch)
        boxes, scores, labels = (torch.tensor(v) for v in zip(*dets))
        # angle 0 when horizontal: the boxes' corners
        boxes = RotatedBoxes(boxes) if rotated else _corners(boxes)
        pred = InstanceData(bboxes=boxes, scores=scores, labels=labels)
        return DetDataSample(pred_instances=pred)

    monkeypatch.setattr(tool, 'inference_detector', fake)
    model = type('Model', (), dict(dataset_meta=dict(classes=('a', 'b'))))
    merged = tool.detect_by_patches(model, img, None, 1024, 200, 0.1,
                                    lambda line: None)
    assert [c.shape for c in crops] == [(1024, 1024, 3)] * 2
    assert np.array_equal(crops[1][:1000], img[:, 776:])
    assert (crops[1][1000:] == (104, 116, 124)).all()  # the split's padding
    expected = torch.tensor([[900, 500, 60, 20, angle], [100, 100, 40, 40, 0],
                             [1276, 300, 30, 30, angle],
                             [900, 500, 58, 20, angle]])
    if rotated:
        assert isinstance(merged.bboxes, RotatedBoxes)  # the model's type
        assert torch.allclose(merged.bboxes.tensor, expected)
    else:
        assert torch.allclose(merged.bboxes, _corners(expected))
    assert torch.allclose(merged.scores, torch.tensor([.9, .8, .6, .5]))
    assert merged.labels.tolist() == [1, 0, 1, 0]
