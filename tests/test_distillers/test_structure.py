"""DKDDistiller reads levels, channels and heads from the built detectors:
necks without ``num_outs`` (RTMDet-R's CSPNeXtPAFPN, YOLOX's PAFPN),
cascades, levels of different widths, detectors without a neck."""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from torch import nn

import dkd_mm  # noqa: F401
from dkd_mm.distillers.builder import build_model, model_config
from dkd_mm.distillers.structure import (feature_channels, find_num_classes,
                                         largest_stride)
from dkd_mm.functional import box_tensor
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch
from tests.test_distillers.test_dkd_distiller import _cfg

RTMDET = 'mmrotate::rotated_rtmdet/rotated_rtmdet_{}-3x-dota.py'
CASCADE = 'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py'
DKD_LOSSES = dict(
    loss_global_distill=dict(type='DynamicGlobalDistillLoss'),
    loss_isd=dict(type='InstanceSelectionDistillLoss'))


def upstream_model(path: str) -> ConfigDict:
    """A packaged config's model, in its scope, without pretrained init."""
    cfg, scope = model_config(path, 'model')
    cfg['_scope_'] = scope
    cfg.backbone.init_cfg = None
    return cfg


def rtmdet(size: str) -> ConfigDict:
    cfg = upstream_model(RTMDET.format(size))
    # RotatedIoULoss needs CUDA: GWD on CPU, as the DOTA config's switch.
    cfg.bbox_head.loss_bbox = dict(
        type='mmrotate.GDLoss', loss_type='gwd', loss_weight=2.0)
    return cfg


def cascade(depth: int) -> ConfigDict:
    cfg = upstream_model(CASCADE)
    if depth == 18:
        cfg.backbone.depth = 18
        cfg.neck.in_channels = [64, 128, 256, 512]
    return cfg


def test_rtmdet_pair_trains_with_three_adapters():
    # CSPNeXtPAFPN has no `num_outs`: its three levels (strides 8, 16, 32)
    # come from the built necks, 96 student channels, 256 teacher ones.
    student, teacher = rtmdet('tiny'), rtmdet('l')
    assert 'num_outs' not in student.neck and 'num_outs' not in teacher.neck
    model = MODELS.build(
        ConfigDict(
            type='dkd_mm.DKDDistiller',
            student=student,
            teacher=teacher,
            distill_losses=DKD_LOSSES,
            pred_cfg=dict(nms_pre=20, score_thr=0.0, max_per_img=10)))
    assert len(model.adapters) == 3
    assert all(
        isinstance(a, nn.Conv2d) and (a.in_channels, a.out_channels) == (96,
                                                                         256)
        for a in model.adapters)
    model.train()
    inputs, samples = demo_batch(size=128)
    losses = model.loss(inputs, samples)
    assert {
        'loss_cls', 'loss_bbox', 'loss_global_distill_fg', 'loss_isd_feat'
    } <= set(losses)
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert all(a.weight.grad.abs().sum() > 0 for a in model.adapters)
    assert all(p.grad is None for p in model.teacher.parameters())


@pytest.mark.parametrize('path, channels', [
    (RTMDET.format('tiny'), [96] * 3),
    ('mmdet::yolox/yolox_tiny_8xb8-300e_coco.py', [96] * 3),
])
def test_necks_without_num_outs_give_their_levels(path, channels):
    cfg = upstream_model(path)
    assert 'num_outs' not in cfg.neck
    detector = build_model(cfg, None)
    assert largest_stride(detector) == 32
    assert feature_channels(detector, 'student', 'neck') == channels
    assert feature_channels(detector, 'teacher') == channels


def test_dry_forward_changes_no_state():
    # The distiller reads the levels after the student is built and rewinds
    # the RNG; the dry forward itself draws nothing, moves no running
    # statistic and leaves every module in its mode.
    detector = build_model(rtmdet('tiny'), None).train()
    detector.backbone.stem.eval()
    modes = {name: m.training for name, m in detector.named_modules()}
    state = copy.deepcopy(detector.state_dict())
    rng = torch.get_rng_state()
    feature_channels(detector, 'student', 'neck')
    assert torch.equal(torch.get_rng_state(), rng)
    assert {n: m.training for n, m in detector.named_modules()} == modes
    after = detector.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)


def test_cascade_pair_builds_and_steps():
    # A cascade's bbox_head is a list of three; its classes are the last's.
    model = MODELS.build(
        ConfigDict(
            type='dkd_mm.DKDDistiller',
            student=cascade(18),
            teacher=cascade(50),
            distill_losses=DKD_LOSSES,
            pred_cfg=dict(nms_pre=20, score_thr=0.0, max_per_img=10)))
    assert find_num_classes(model.teacher) == 80
    assert len(model.adapters) == 5
    assert all(isinstance(a, nn.Identity) for a in model.adapters)
    inputs, samples = demo_batch(size=128, rotated=False, num_classes=80)
    for sample in samples:  # as mmdet's preprocessor (boxtype2tensor)
        sample.gt_instances.bboxes = sample.gt_instances.bboxes.tensor
    losses = model.loss(inputs, samples)
    assert {
        'loss_rpn_cls', 's2.loss_cls', 'loss_global_distill_fg',
        'loss_isd_feat'
    } <= set(losses)
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)

    student = cascade(18)
    for head in student.roi_head.bbox_head:
        head.num_classes = 5
    with pytest.raises(ValueError, match='num_classes=5.*num_classes=80'):
        MODELS.build(
            ConfigDict(
                type='dkd_mm.DKDDistiller',
                student=student,
                teacher=cascade(50)))


@pytest.mark.parametrize('role', ['student', 'teacher'])
def test_detector_without_neck_fails_when_built(role):
    cfg = _cfg()
    cfg[role].neck = None  # RetinaNet's argument, as a neckless detector's
    with pytest.raises(ValueError, match=f'{role} .*has no `neck`.*neck=dict'):
        MODELS.build(cfg)


class _WidthsNeck(nn.Module):
    """An FPN whose levels are mapped to different widths."""

    def __init__(self, fpn: dict, widths: list) -> None:
        super().__init__()
        self.fpn = MODELS.build(fpn)
        self.convs = nn.ModuleList(
            nn.Conv2d(fpn['out_channels'], w, 1) for w in widths)

    def forward(self, inputs: tuple) -> tuple:
        return tuple(conv(f) for conv, f in zip(self.convs, self.fpn(inputs)))


@pytest.fixture
def widths_neck():
    MODELS.register_module('DKDTestWidthsNeck', module=_WidthsNeck, force=True)
    yield 'dkd_mm.DKDTestWidthsNeck'
    MODELS.module_dict.pop('DKDTestWidthsNeck', None)


def test_levels_of_different_widths_get_their_own_adapters(widths_neck):
    # The teacher's levels have 128, 96, 64, 48, 32 channels; the student's
    # 64: one adapter per level, none where the widths agree.  FGD takes one
    # width per level.  (ISD pools every level into one tensor: see
    # test_roi_features.py.)
    widths = [128, 96, 64, 48, 32]
    cfg = _cfg(
        distill_losses=dict(
            loss_fitnet=dict(type='FitNetLoss'),
            loss_global_distill=dict(type='DynamicGlobalDistillLoss'),
            loss_fgd=dict(type='FGDLoss', in_channels=widths, num_levels=5)))
    cfg.teacher.neck = dict(
        type=widths_neck, fpn=cfg.teacher.neck, widths=widths)
    model = MODELS.build(cfg)
    assert [
        a.out_channels if isinstance(a, nn.Conv2d) else None
        for a in model.adapters
    ] == [128, 96, None, 48, 32]
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)


@pytest.mark.parametrize('key, value, match', [
    ('mean', [0., 0., 0.], r'mean must agree: student \[123.675'),
    ('bgr_to_rgb', False, 'bgr_to_rgb must agree: student True, teacher '
     'False'),
])
def test_teacher_sees_the_students_normalisation(key, value, match):
    cfg = _cfg()
    cfg.teacher.data_preprocessor[key] = value
    with pytest.raises(ValueError, match=match):
        MODELS.build(cfg)


def test_detr_fails_when_built_if_isd_asks_for_its_instances():
    # DETR decodes its instances with a transformer, not from the neck:
    # a clear error at build time, and GD alone still builds.
    detr = upstream_model('mmdet::detr/detr_r50_8xb2-150e_coco.py')
    detr.backbone.depth = 18
    detr.neck.in_channels = [512]
    cfg = ConfigDict(
        type='dkd_mm.DKDDistiller',
        distill_losses=DKD_LOSSES,
        student=detr,
        teacher=copy.deepcopy(detr))
    with pytest.raises(
            ValueError,
            match=r"loss_isd asks for the teacher's instances \(teacher_preds"
            r'.*the teacher, DETR, decodes them with a transformer.*'
            r'without loss_isd'):
        MODELS.build(cfg)
    cfg.distill_losses = dict(
        loss_global_distill=DKD_LOSSES['loss_global_distill'])
    assert len(MODELS.build(cfg).adapters) == 1


def test_refine_stage_predictions_are_the_detectors_own():
    # R3Det (mmrotate's RefineSingleStageDetector): the instances ISD takes
    # from its neck features are its own predict's.
    from dkd_mm.distillers.context import predict_from_feats
    cfg = upstream_model('mmrotate::r3det/r3det-oc_r50_fpn_1x_dota.py')
    cfg.backbone.depth = 18
    cfg.neck.in_channels = [64, 128, 256, 512]
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    inputs, samples = demo_batch(size=128, num_classes=15)
    with torch.no_grad():
        ours = predict_from_feats(model, model.extract_feat(inputs), samples)
        theirs = model.predict(inputs, copy.deepcopy(samples), rescale=False)
    assert sum(len(r) for r in ours) > 0
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.bboxes,
                                   box_tensor(b.pred_instances.bboxes))
        torch.testing.assert_close(a.scores, b.pred_instances.scores)


def test_quadrilateral_ground_truth_becomes_rotated_boxes():
    from mmrotate.structures.bbox import QuadriBoxes

    from dkd_mm.distillers.dkd_distiller import gt_box_tensor
    square = QuadriBoxes(torch.tensor([[0., 0., 20., 0., 20., 10., 0., 10.]]))
    box = gt_box_tensor(square)
    assert box.shape == (1, 5)
    torch.testing.assert_close(box[0, :2], torch.tensor([10., 5.]))
    assert sorted(box[0, 2:4].tolist()) == pytest.approx([10., 20.])
    plain = torch.rand(3, 5)
    assert gt_box_tensor(plain) is plain
