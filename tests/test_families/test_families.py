"""Every detector family through DKD, built from the repo's configs.

Per family (rotated RetinaNet, Oriented R-CNN, rotated Faster R-CNN and
rotated FCOS on the synthetic DOTA classes; RetinaNet, Faster R-CNN and FCOS
on NWPU VHR-10's): the teacher, student and thinner student build; the
distiller builds with each student; one DKD training step on two 128 px
images gives finite, non-zero GD, ISD and TSA terms beside the student's own
losses and back-propagates; the distiller's ``predict`` feeds the family's
own metric.  Models are built in each config's default scope.
"""
import copy
import multiprocessing.dummy
import os.path as osp
from dataclasses import dataclass
from typing import Tuple

import pytest
import torch
from mmdet.models.utils import samplelist_boxtype2tensor
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import METRICS, DefaultScope
from mmengine.structures import InstanceData
from mmrotate.evaluation.functional import mean_ap as rotated_mean_ap

import dkd_mm  # noqa: F401
from dkd_mm.datasets import SYNTHETIC_CLASSES
from dkd_mm.datasets.nwpu import NWPU_CLASSES
from dkd_mm.distillers import DKDDistiller, dkd_distiller
from dkd_mm.distillers.context import box_tensor
from dkd_mm.losses.tsa_loss import TSALoss
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch
from dkd_mm.testing._utils import REPO_ROOT
from dkd_mm.utils.train_status import TRAIN_STATUS_KEY


@dataclass(frozen=True)
class Family:
    """Configs (under configs/) and facts of one detector family."""
    teacher: str
    student: str
    thin: str
    dkd: str
    student_losses: Tuple[str, ...]
    rotated: bool = True

    @property
    def num_classes(self) -> int:
        return 5 if self.rotated else 10

    @property
    def classes(self) -> tuple:
        return tuple(SYNTHETIC_CLASSES) if self.rotated else NWPU_CLASSES


SINGLE = ('loss_cls', 'loss_bbox')
ANCHOR_FREE = SINGLE + ('loss_centerness', )
TWO_STAGE = ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox')

FAMILIES = {
    'rotated_retinanet':
    Family('rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py',
           'rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py',
           'rotated_retinanet/rotated-retinanet_r18-thin_fpn_synthetic.py',
           'rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py',
           SINGLE),
    'oriented_rcnn':
    Family('oriented_rcnn/oriented-rcnn_r50_fpn_synthetic.py',
           'oriented_rcnn/oriented-rcnn_r18_fpn_synthetic.py',
           'oriented_rcnn/oriented-rcnn_r18-thin_fpn_synthetic.py',
           'oriented_rcnn/dkd_oriented-rcnn_r50-r18_synthetic.py', TWO_STAGE),
    'rotated_faster_rcnn':
    Family(
        'rotated_faster_rcnn/rotated-faster-rcnn_r50_fpn_synthetic.py',
        'rotated_faster_rcnn/rotated-faster-rcnn_r18_fpn_synthetic.py',
        'rotated_faster_rcnn/rotated-faster-rcnn_r18-thin_fpn_synthetic.py',
        'rotated_faster_rcnn/dkd_rotated-faster-rcnn_r50-r18_synthetic.py',
        TWO_STAGE),
    'rotated_fcos':
    Family('rotated_fcos/rotated-fcos_r50_fpn_synthetic.py',
           'rotated_fcos/rotated-fcos_r18_fpn_synthetic.py',
           'rotated_fcos/rotated-fcos_r18-thin_fpn_synthetic.py',
           'rotated_fcos/dkd_rotated-fcos_r50-r18_synthetic.py', ANCHOR_FREE),
    'retinanet_nwpu':
    Family(
        'nwpu/retinanet_r50_fpn_scratch_nwpu.py',
        'nwpu/retinanet_r18_fpn_scratch_nwpu.py',
        'nwpu/retinanet_r18-thin_fpn_scratch_nwpu.py',
        'nwpu/dkd_retinanet_r50-r18_fpn_scratch_nwpu.py',
        SINGLE,
        rotated=False),
    'faster_rcnn_nwpu':
    Family(
        'nwpu/faster-rcnn_r50_fpn_scratch_nwpu.py',
        'nwpu/faster-rcnn_r18_fpn_scratch_nwpu.py',
        'nwpu/faster-rcnn_r18-thin_fpn_scratch_nwpu.py',
        'nwpu/dkd_faster-rcnn_r50-r18_fpn_scratch_nwpu.py',
        TWO_STAGE,
        rotated=False),
    'fcos_nwpu':
    Family(
        'nwpu/fcos_r50_fpn_scratch_nwpu.py',
        'nwpu/fcos_r18_fpn_scratch_nwpu.py',
        'nwpu/fcos_r18-thin_fpn_scratch_nwpu.py',
        'nwpu/dkd_fcos_r50-r18_fpn_scratch_nwpu.py',
        ANCHOR_FREE,
        rotated=False),
}
GD_KEYS = ('loss_global_distill_fg', 'loss_global_distill_bg',
           'loss_global_distill_relation')
ISD_KEYS = ('loss_isd_feat', 'loss_isd_relation')

_CONFIGS: dict = {}
_DISTILLERS: dict = {}


def load(config: str) -> Config:
    if config not in _CONFIGS:
        _CONFIGS[config] = Config.fromfile(
            osp.join(REPO_ROOT, 'configs', config))
    return copy.deepcopy(_CONFIGS[config])


def build(config: str, model_cfg=None):
    """Build a config's model (or ``model_cfg``) in the config's scope."""
    cfg = load(config)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(model_cfg if model_cfg is not None else cfg.model)


def distiller(name: str) -> DKDDistiller:
    """The family's DKD config with a random teacher, built once.  ISD takes
    both detectors' predictions (``isd_instances='predictions'``): these
    tests check each family's predict path; the loss pass's instances are
    tested in tests/test_distillers/test_samples.py."""
    if name not in _DISTILLERS:
        cfg = load(FAMILIES[name].dkd).model
        cfg.teacher_ckpt = None
        cfg.isd_instances = 'predictions'
        torch.manual_seed(0)
        _DISTILLERS[name] = build(FAMILIES[name].dkd, cfg)
    return _DISTILLERS[name]


def batch(family: Family):
    inputs, samples = demo_batch(
        size=128, rotated=family.rotated, num_classes=family.num_classes)
    if not family.rotated:  # as mmdet's data preprocessor (boxtype2tensor)
        samplelist_boxtype2tensor(samples)
    return inputs, samples


def total(value) -> torch.Tensor:
    """A loss entry (a tensor or mmdet's per-level list) summed."""
    return sum(value) if isinstance(value, (list, tuple)) else value.sum()


def box_loss_module(detector):
    head = detector.roi_head.bbox_head if getattr(
        detector, 'with_roi_head', False) else detector.bbox_head
    return head.loss_bbox


@pytest.mark.parametrize('role', ['teacher', 'student', 'thin'])
@pytest.mark.parametrize('name', list(FAMILIES))
def test_configs_build_from_scratch(name, role):
    family = FAMILIES[name]
    config = getattr(family, role)
    cfg = load(config)
    assert cfg.model.backbone.init_cfg is None, 'no pretrained download'
    detector = build(config)
    backbone = detector.backbone
    assert backbone.depth == (50 if role == 'teacher' else 18)
    assert backbone.base_channels == (32 if role == 'thin' else 64)
    assert not backbone.norm_eval and backbone.frozen_stages == -1
    head_cfg = cfg.model.get('bbox_head') or cfg.model.roi_head.bbox_head
    assert head_cfg.num_classes == family.num_classes
    # The neck's in_channels match the (thinner) backbone's stages.
    with torch.no_grad():
        feats = detector.eval().extract_feat(torch.zeros(1, 3, 64, 64))
    assert len(feats) == cfg.model.neck.num_outs
    assert all(f.shape[1] == cfg.model.neck.out_channels for f in feats)


@pytest.mark.parametrize('name', list(FAMILIES))
def test_distiller_builds_with_the_thin_student(name):
    family = FAMILIES[name]
    teacher, thin = load(family.teacher), load(family.thin)
    model = build(
        family.dkd,
        dict(
            type='dkd_mm.DKDDistiller',
            student=thin.model,
            teacher=osp.join(REPO_ROOT, 'configs', family.teacher)))
    channels_s, channels_t = (thin.model.neck.out_channels,
                              teacher.model.neck.out_channels)
    assert channels_s < channels_t
    assert len(model.adapters) == teacher.model.neck.num_outs
    assert all(a.in_channels == channels_s and a.out_channels == channels_t
               for a in model.adapters)
    assert model.student.backbone.base_channels == 32


@pytest.mark.parametrize('name', list(FAMILIES))
def test_dkd_step(name, monkeypatch):
    """GD, ISD and TSA are finite and non-zero beside the student's losses.

    A random teacher rarely predicts a ground-truth box, so for ISD to have
    instances to distil, the teacher's predictions handed to the losses are
    replaced by the GT boxes at score 0.95.  The family's own predict path
    still runs for both detectors, and its output is checked.
    """
    family = FAMILIES[name]
    model = distiller(name).train()
    assert isinstance(box_loss_module(model.student), TSALoss)
    width = 5 if family.rotated else 4
    real_preds = {}
    real_predict = dkd_distiller.predict_from_feats

    def teacher_sees_gt(detector, feats, samples, *args):
        preds = real_predict(detector, feats, samples, *args)
        role = 'teacher' if detector is model.teacher else 'student'
        real_preds[role] = preds
        if role == 'student':
            return preds
        return [
            InstanceData(
                bboxes=box_tensor(s.gt_instances.bboxes).clone(),
                scores=torch.full((len(s.gt_instances), ), 0.95),
                labels=s.gt_instances.labels.clone()) for s in samples
        ]

    monkeypatch.setattr(dkd_distiller, 'predict_from_feats', teacher_sees_gt)
    # psi = 0.5 (as the teacher hook publishes it), so TSA re-weights boxes.
    monkeypatch.setitem(MessageHub.get_current_instance().runtime_info,
                        TRAIN_STATUS_KEY, 0.5)
    inputs, samples = batch(family)
    with DefaultScope.overwrite_default_scope(load(family.dkd).default_scope):
        losses = model.loss(inputs, samples)

    assert set(real_preds) == {'teacher', 'student'}
    for preds in real_preds.values():
        assert len(preds) == 2
        for pred in preds:
            assert isinstance(pred, InstanceData)
            assert pred.bboxes.dim() == 2 and pred.bboxes.shape[1] == width
            assert pred.scores.shape == pred.labels.shape == (len(pred), )
            if len(pred):
                assert 0 <= pred.labels.min() <= pred.labels.max() < \
                    family.num_classes

    for key in family.student_losses + GD_KEYS + ISD_KEYS:
        value = total(losses[key])
        assert torch.isfinite(value), (key, value)
        assert value > 0, (key, value)  # loss_bbox: the student's TSA loss
    # Besides losses: the RoI head's accuracy and ISD's logged counts.
    assert {k
            for k in losses if 'loss' not in k} <= {
                'acc', 'isd_candidates', 'isd_selected', 'isd_outliers',
                'isd_false_positives'
            }
    loss = sum(total(v) for k, v in losses.items() if 'loss' in k)
    loss.backward()
    assert all(
        p.grad is not None and torch.isfinite(p.grad).all()
        for p in model.student.backbone.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
    model.zero_grad()


@pytest.mark.parametrize('name', list(FAMILIES))
def test_predict_feeds_the_family_metric(name, monkeypatch):
    family = FAMILIES[name]
    # mmrotate's DOTA mAP computes in a pool of 4 spawned processes, each of
    # which re-imports this test session (~15 s); threads do the same work.
    monkeypatch.setattr(rotated_mean_ap, 'get_context',
                        lambda method: multiprocessing.dummy)
    cfg = load(family.dkd)
    model = distiller(name).eval()
    inputs, samples = batch(family)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        with torch.no_grad():
            results = model.predict(inputs, samples)
        metric = METRICS.build(cfg.val_evaluator)
    assert type(metric).__name__ == ('DOTAMetric'
                                     if family.rotated else 'VOCMetric')
    width = 5 if family.rotated else 4
    assert all(
        box_tensor(r.pred_instances.bboxes).shape[-1] == width
        for r in results)
    assert sum(len(r.pred_instances) for r in results) > 0
    metric.dataset_meta = dict(classes=family.classes)
    metric.process({}, [r.to_dict() for r in results])
    scores = metric.evaluate(len(results))
    key = 'dota/mAP' if family.rotated else 'pascal_voc/mAP'
    # Random weights are far from the ground truth; the ground truth handed
    # over as predictions, in the same form, scores exactly 1.
    assert scores[key] < 0.5
    perfect = []
    for result in results:
        sample, gt = result.to_dict(), result.gt_instances
        sample['pred_instances'] = dict(
            bboxes=box_tensor(gt.bboxes),
            scores=torch.ones(len(gt.labels)),
            labels=gt.labels)
        perfect.append(sample)
    metric.process({}, perfect)
    assert metric.evaluate(len(perfect))[key] == pytest.approx(1.0)


def test_oriented_rcnn_gd_ablation_is_dkd_without_isd_and_tsa():
    # docs/benchmarks.md's Oriented R-CNN diagnosis: the DKD config with
    # only global distillation, on the plain student (its upstream box loss).
    ablation = load(
        'oriented_rcnn/ablation_gd_oriented-rcnn_r50-r18_synthetic.py')
    dkd = load(FAMILIES['oriented_rcnn'].dkd)
    plain = load(FAMILIES['oriented_rcnn'].student).model
    assert list(ablation.model.distill_losses) == ['loss_global_distill']
    assert (ablation.model.distill_losses.loss_global_distill ==
            dkd.model.distill_losses.loss_global_distill)
    student = ablation.model.student
    assert student.roi_head.bbox_head.pop('reg_decoded_bbox') is False
    assert student.to_dict() == plain.to_dict()
    assert ablation.model.teacher == dkd.model.teacher
    assert ablation.custom_hooks == dkd.custom_hooks


def _narrowed(model: dict) -> tuple:
    """The three keys the lite students change, popped from ``model``."""
    return (model.neck.pop('out_channels'), model.bbox_head.pop('in_channels'),
            model.bbox_head.pop('feat_channels'))


def test_nwpu_lite_student_is_the_r18_student_with_a_128_channel_neck_head():
    # docs/benchmarks.md, inference at 1024 px: the standard ResNet-18
    # student keeps 256 channels and is only 1.8x faster than its teacher.
    family = FAMILIES['retinanet_nwpu']
    lite_cfg = load('nwpu/retinanet_r18-lite_fpn_scratch_nwpu.py')
    dkd_cfg = load('nwpu/dkd_retinanet_r50-r18-lite_fpn_scratch_nwpu.py')
    student, lite = load(family.student).model, copy.deepcopy(lite_cfg.model)
    assert _narrowed(student) == (256, 256, 256)
    assert _narrowed(lite) == (128, 128, 128)
    assert lite.to_dict() == student.to_dict()
    dkd_student = copy.deepcopy(dkd_cfg.model.student)
    dkd_r18 = load(family.dkd).model.student
    assert _narrowed(dkd_student) == (128, 128, 128)
    assert _narrowed(dkd_r18) == (256, 256, 256)
    assert dkd_student.to_dict() == dkd_r18.to_dict()

    detector = build('nwpu/retinanet_r18-lite_fpn_scratch_nwpu.py')
    assert detector.backbone.base_channels == 64  # ImageNet R18 widths
    with torch.no_grad():
        feats = detector.eval().extract_feat(torch.zeros(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == [128] * lite_cfg.model.neck.num_outs
    dkd_cfg.model.teacher_ckpt = None
    model = build('nwpu/dkd_retinanet_r50-r18-lite_fpn_scratch_nwpu.py',
                  dkd_cfg.model)
    assert [(a.in_channels, a.out_channels)
            for a in model.adapters] == [(128, 256)] * 5
