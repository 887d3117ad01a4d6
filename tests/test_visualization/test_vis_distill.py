"""The panels of tools/analysis/vis_distill.py: drawing functions on hand-made
boxes, then the tool on real distillers (rotated from the repo's DKD config,
horizontal from mmdet's RetinaNet) and the tiny embedded data."""
import copy
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from mmengine.utils import get_installed_path

from dkd_mm.functional import Selection
from dkd_mm.losses import InstanceSelectionDistillLoss
from dkd_mm.registry import MODELS
from dkd_mm.visualization import (ISD_COLOURS, box_corners, candidate_kinds,
                                  edge_midpoints, isd_panel, level_panel)
from dkd_mm.visualization.distill_panels import TEACHER_KINDS
from dkd_mm.visualization.drawing import TITLE_HEIGHT, resized

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DKD = osp.join(
    ROOT,
    'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py')
KINDS = ['selected', 'outlier', 'not_better', 'false_positive', 'selected']


def _load_tool():
    path = osp.join(ROOT, 'tools/analysis/vis_distill.py')
    spec = importlib.util.spec_from_file_location('vis_distill', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vis = _load_tool()


def _selection(kinds, weights) -> Selection:
    selected = torch.tensor([k == 'selected' for k in kinds])
    return Selection(
        selected=selected,
        outlier=torch.tensor([k == 'outlier' for k in kinds]),
        false_positive=torch.tensor([k == 'false_positive' for k in kinds]),
        weights=torch.tensor(weights, dtype=torch.float32),
        matched_gt=torch.tensor(
            [-1 if k == 'false_positive' else 0 for k in kinds]))


def _boxes(rotated: bool) -> torch.Tensor:
    """Five candidates and one student box, far apart, in a 200 px image."""
    centres = torch.tensor([[40., 40], [120, 40], [40, 120], [120, 120],
                            [40, 170], [160, 170]])
    if rotated:
        size = torch.tensor([[36., 20]]).expand(6, 2)
        return torch.cat([centres, size, torch.full((6, 1), 0.4)], dim=1)
    return torch.cat([centres - 15, centres + 12], dim=1)


def _colours_near(panel: np.ndarray, point) -> set:
    x, y = np.round(point).astype(int)
    y += TITLE_HEIGHT
    window = panel[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3)
    return {tuple(int(c) for c in px) for px in window}


@pytest.mark.parametrize('rotated', [True, False])
def test_isd_panel_colours_follow_selection(rotated):
    boxes = _boxes(rotated)
    candidates = InstanceData(bboxes=boxes[:5], scores=torch.ones(5))
    selection = _selection(KINDS, [0.75, 0, 0, 0, 0.25])
    student = InstanceData(bboxes=boxes[5:], scores=torch.tensor([0.9]))
    image = np.full((200, 200, 3), 60, np.uint8)
    panel, drawn = isd_panel(image, candidates, selection, student)

    assert candidate_kinds(selection) == KINDS
    teacher = [d for d in drawn if d.kind != 'student']
    # Drawn by kind (false positives first, selected last), one per box.
    assert [d.kind for d in teacher] == [
        'false_positive', 'not_better', 'outlier', 'selected', 'selected'
    ]
    assert [d.weight for d in teacher if d.kind == 'selected'] == [0.75, 0.25]
    assert [d.kind for d in drawn if d.kind == 'student'] == ['student']
    drawing_colours = set(ISD_COLOURS.values())
    for box in drawn:
        assert box.colour == ISD_COLOURS[box.kind]
        for point in edge_midpoints(box.box[None])[0]:
            near = _colours_near(panel, point) & drawing_colours
            assert near == {box.colour}, (box.kind, point, near)
    assert panel.shape[1] == 200 and panel.shape[0] > 200 + TITLE_HEIGHT


def test_isd_panel_scale_and_mismatch():
    boxes = _boxes(False)
    candidates = InstanceData(bboxes=boxes[:5], scores=torch.ones(5))
    image = np.zeros((200, 200, 3), np.uint8)
    panel, drawn = isd_panel(
        image, candidates, _selection(KINDS, [1, 0, 0, 0, 0]), scale=0.5)
    assert panel.shape[1] == 100
    assert np.allclose(drawn[0].box, boxes[3].numpy() / 2)
    with pytest.raises(ValueError, match='5 candidates'):
        isd_panel(image, candidates, _selection(KINDS[:2], [1, 0]))


def test_box_corners_follow_mmrotate_convention():
    # The w side points along (cos, sin): at 90 degrees it is vertical.
    corners = box_corners(torch.tensor([[10., 10, 4, 2, np.pi / 2]]))[0]
    assert np.allclose(np.sort(np.unique(corners[:, 0].round(6))), [9, 11])
    assert np.allclose(np.sort(np.unique(corners[:, 1].round(6))), [8, 12])
    assert np.allclose(
        box_corners(torch.tensor([[1., 2, 3, 4]]))[0],
        [[1, 2], [3, 2], [3, 4], [1, 4]])


def test_level_panel_grid_size():
    maps = dict(
        fg_mask=torch.zeros(8, 8),
        spatial_attn_t=torch.rand(8, 8),
        bg_weight=torch.rand(8, 8),
        discrepancy=torch.rand(8, 8))
    image = np.zeros((64, 48, 3), np.uint8)
    panel = level_panel(image, maps, torch.tensor([[4., 4, 20, 30]]))
    assert panel.shape == (2 * (64 + TITLE_HEIGHT), 3 * 48, 3)
    assert level_panel(image, maps, scale=2).shape == (2 * (128 + 18), 288, 3)


def _assert_panel_matches(result,
                          panel: np.ndarray,
                          drawn: list,
                          scale: float = 1.0) -> None:
    """Colours and drawn kinds of an ISD panel follow its selection."""
    kinds = candidate_kinds(result.selection)
    teacher = [d.kind for d in drawn if d.kind in TEACHER_KINDS]
    assert sorted(teacher) == sorted(kinds)
    selected = [d.weight for d in drawn if d.kind == 'selected']
    expected = result.selection.weights[result.selection.selected]
    assert np.allclose(sorted(selected), sorted(expected.tolist()))
    # A colour appears where the plain image lacks it iff its kind was drawn.
    image = resized(result.image, scale)
    body = panel[TITLE_HEIGHT:TITLE_HEIGHT + image.shape[0]]
    for kind in TEACHER_KINDS:
        new = (body == ISD_COLOURS[kind]).all(-1) & \
            (image != ISD_COLOURS[kind]).any(-1)
        assert new.any() == (kind in kinds), kind


@pytest.fixture(scope='module')
def dkd_cfg(tiny_data) -> Config:
    cfg = Config.fromfile(DKD)
    cfg.model.teacher_ckpt = None  # a random teacher predicts many boxes
    # Post-NMS predictions: every kind of candidate, false positives too
    # (the loss pass offers one instance per GT box).
    cfg.model.isd_instances = 'predictions'
    cfg.val_dataloader.dataset.data_root = tiny_data + '/'
    return cfg


@pytest.fixture(scope='module')
def rotated_model(dkd_cfg):
    torch.manual_seed(0)
    model, status = vis.build_distiller(dkd_cfg, None, 'cpu')
    assert status == 0.0 and not model.training
    return model


def test_rotated_distiller_selection_drawn_as_computed(dkd_cfg, rotated_model):
    model = rotated_model
    gd, _ = vis.loss_modules(model)
    [(stem, data)] = vis.load_items(dkd_cfg, None, 1)
    # iou_thr=0 matches some random boxes, so several kinds occur; the panel
    # must draw exactly the kinds computed (its colour check covers a kind
    # that is absent too).  Seeded, with one anchor scale per level, 3 of
    # the 4 kinds occur (no "teacher not better").
    isd = InstanceSelectionDistillLoss(iou_thr=0.0, k_std=0.5)
    result = vis.inspect_image(model, gd, isd, data, 0.5)
    assert stem == 'val_00000' and result.image.shape == (256, 256, 3)
    assert result.level_names == ['P3', 'P4', 'P5', 'P6', 'P7']
    assert [m['fg_mask'].shape for m in result.maps][0] == (32, 32)
    kinds = set(candidate_kinds(result.selection))
    assert {'selected', 'outlier', 'false_positive'} <= kinds
    panel, drawn = isd_panel(result.image, result.candidates, result.selection,
                             None, result.gt_boxes)
    _assert_panel_matches(result, panel, drawn)


def test_val_annotations_are_in_the_input_frame(dkd_cfg, tiny_data):
    """The val pipeline loads GT after Resize; the tool moves it first."""
    [(_, data)] = vis.load_items(dkd_cfg, None, 1)
    boxes = data['data_samples'].gt_instances.bboxes.tensor
    path = osp.join(tiny_data, 'val/annfiles/val_00000.txt')
    corners = [float(v) for v in open(path).readline().split()[:8]]
    centre = torch.tensor([sum(corners[0::2]), sum(corners[1::2])]) / 4
    # The 128 px tiny images are resized to 256: coordinates double.
    assert torch.allclose(boxes[0, :2], 2 * centre, atol=0.5)


def test_cli_with_run_checkpoint_annotated_and_bare(rotated_model, tiny_data,
                                                    tmp_path, monkeypatch):
    ckpt = str(tmp_path / 'run.pth')
    torch.save({
        'meta': {
            'iter': 3
        },
        'state_dict': rotated_model.state_dict()
    }, ckpt)
    seen = []
    inspect_image = vis.inspect_image

    def spy(model, gd, isd, data, status):
        result = inspect_image(model, gd, isd, data, status)
        seen.append((model, status, result))
        return result

    monkeypatch.setattr(vis, 'inspect_image', spy)
    images = [
        osp.join(tiny_data, 'val/images/val_00000.png'),
        osp.join(tiny_data, 'train/images/train_00000.png')
    ]
    out = str(tmp_path / 'vis')
    paths = vis.main([
        DKD, ckpt, '--images', *images, '--out-dir', out, '--teacher-ckpt',
        'none', '--cfg-options', f'val_dataloader.dataset.data_root='
        f'{tiny_data}/', 'train_cfg.max_iters=6',
        'model.isd_instances=predictions'
    ])
    names = [
        f'{s}_{p}.png' for s in ('val_00000', 'train_00000')
        for p in ('P3', 'P4', 'P5', 'P6', 'P7', 'isd')
    ]
    assert [osp.basename(p) for p in paths] == names
    for path in paths:
        image = cv2.imread(path)
        # 256 px inputs; a 2 x 3 grid of titled panels, or the ISD panel
        # with its title and a legend of 6 entries in 3 rows of 2.
        expected = (2 * (256 + TITLE_HEIGHT), 3 * 256, 3)
        if path.endswith('isd.png'):
            expected = (TITLE_HEIGHT + 256 + 3 * TITLE_HEIGHT, 256, 3)
        assert image is not None and image.shape == expected, path
        assert image.std() > 0
    model, status, annotated = seen[0]
    assert status == 0.5  # iter 3 of max_iters 6
    assert len(annotated.gt_boxes) == 3 and seen[1][2].gt_boxes is None
    key = 'student.backbone.conv1.weight'
    assert torch.equal(model.state_dict()[key],
                       rotated_model.state_dict()[key])


def _horizontal_distiller():
    """mmdet's RetinaNet R18 teaching a 64-channel one (horizontal boxes)."""
    teacher = Config.fromfile(
        osp.join(
            get_installed_path('mmdet'), '.mim', 'configs', 'retinanet',
            'retinanet_r18_fpn_1x_coco.py')).model
    teacher.backbone.init_cfg = None
    teacher.bbox_head.num_classes = 5
    student = copy.deepcopy(teacher)
    student.neck.out_channels = 64
    student.bbox_head.update(in_channels=64, feat_channels=64)
    cfg = dict(
        type='dkd_mm.DKDDistiller',
        student=student,
        teacher=teacher,
        isd_instances='predictions',
        distill_losses=dict(
            loss_global_distill=dict(type='DynamicGlobalDistillLoss'),
            loss_isd=dict(
                type='InstanceSelectionDistillLoss', iou_thr=0.0, k_std=0.5)))
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(cfg).eval()


def test_horizontal_distiller_panels(tmp_path):
    torch.manual_seed(0)
    model = _horizontal_distiller()
    gd, isd = vis.loss_modules(model)
    assert isd.iou_thr == 0.0  # the config's ISD, not a default one
    rng = np.random.RandomState(0)
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(128, 128),
            ori_shape=(128, 128),
            scale_factor=(1., 1.),
            img_id=0,
            img_path='demo.png'))
    boxes = torch.tensor([[10., 10, 50, 40], [60, 70, 120, 100]])
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(boxes), labels=torch.tensor([0, 3]))
    data = dict(
        inputs=torch.from_numpy(
            rng.randint(0, 255, (3, 128, 128)).astype(np.uint8)),
        data_samples=sample)
    result = vis.inspect_image(model, gd, isd, data, 0.5)
    assert result.gt_boxes.shape == (2, 4)
    assert result.candidates.bboxes.shape[-1] == 4
    assert 'selected' in candidate_kinds(result.selection)
    panel, drawn = isd_panel(
        result.image,
        result.candidates,
        result.selection,
        result.student_preds,
        result.gt_boxes,
        scale=2.0)
    _assert_panel_matches(result, panel, drawn, scale=2.0)
    paths = vis.write_panels(result, 'demo', str(tmp_path), gd, 1.0, 0.3, 0.5)
    assert [osp.basename(p) for p in paths] == [
        'demo_P3.png', 'demo_P4.png', 'demo_P5.png', 'demo_P6.png',
        'demo_P7.png', 'demo_isd.png'
    ]
    assert cv2.imread(paths[0]).shape == (2 * (128 + TITLE_HEIGHT), 384, 3)
    assert cv2.imread(paths[-1]).shape[1] == 128
