"""ISD's instances from the student's loss pass (dkd_mm/distillers/samples.py):
the positive samples recorded are the head's own, one instance per GT box,
and no second predict pass of either detector."""
import math

import pytest
import torch
from mmengine.structures import InstanceData

import dkd_mm  # noqa: F401
from dkd_mm.distillers.samples import (ANCHOR, ROI, aligned_iou, best_per_gt,
                                       representatives, sample_kind)
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch, get_model_cfg
from tests.test_distillers.test_dkd_distiller import _cfg

ISD = dict(loss_isd=dict(type='InstanceSelectionDistillLoss', score_thr=0.))
RCNN = 'oriented_rcnn/oriented-rcnn_r{}_fpn_synthetic.py'
LOSS_PASS = dict(distill_losses=ISD, isd_instances='loss_pass')


def _pair(path: str):
    """A DKD config of a family's ResNet-18 student and ResNet-50 teacher."""
    cfg = _cfg(**LOSS_PASS)
    cfg.student = get_model_cfg(path.format(18))
    cfg.teacher = get_model_cfg(path.format(50))
    return cfg


def test_best_per_gt_hand_worked():
    losses = torch.tensor([0.5, 0.2, 0.9, 0.1, 0.3, 0.2])
    gt = torch.tensor([1, 1, 0, 0, 2, 1])
    # GT 0: samples 2, 3 -> 3; GT 1: 0, 1, 5 -> 1 (first of the ties);
    # GT 2: 4.
    assert best_per_gt(losses, gt).tolist() == [3, 1, 4]
    assert best_per_gt(losses[:0], gt[:0]).tolist() == []


def test_aligned_iou_known_values():
    a = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 10.]])
    b = torch.tensor([[5., 0., 15., 10.], [0., 0., 10., 10.]])
    torch.testing.assert_close(aligned_iou(a, b), torch.tensor([1 / 3, 1.]))
    ra = torch.tensor([[5., 5., 10., 10., 0.], [5., 5., 10., 10., 0.]])
    rb = torch.tensor([[10., 5., 10., 10., 0.], [5., 5., 10., 10., math.pi]])
    torch.testing.assert_close(
        aligned_iou(ra, rb), torch.tensor([1 / 3, 1.]), atol=1e-4, rtol=1e-4)
    assert aligned_iou(a[:0], b[:0]).shape == (0, )


def test_representatives_take_the_least_loss_per_gt():
    gt_inst = InstanceData(
        bboxes=torch.tensor([[0., 0., 10., 10.], [20., 20., 40., 40.]]),
        labels=torch.tensor([3, 1]))
    boxes = torch.tensor([[0., 0., 10., 10.], [5., 0., 15., 10.],
                          [20., 20., 40., 40.], [0., 0., 10., 10.]])
    # GT 0: l = -log 0.5 + 0 = 0.69 against -log 0.9 + 2/3 = 0.77;
    # GT 1: samples 2 (l = -log 0.2 = 1.61) and 3 (IoU 0: l = 1 - log .9).
    scores = torch.tensor([0.5, 0.9, 0.2, 0.9])
    found = representatives(scores, boxes, torch.tensor([0, 0, 1, 1]), gt_inst)
    torch.testing.assert_close(found.bboxes, boxes[[0, 3]])
    torch.testing.assert_close(found.scores, scores[[0, 3]])
    assert found.labels.tolist() == [3, 1]


def test_kinds():
    assert sample_kind(
        MODELS.build(
            get_model_cfg(
                'rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'))
    ) == ANCHOR
    assert sample_kind(MODELS.build(get_model_cfg(RCNN.format(18)))) == ROI
    fcos = get_model_cfg('rotated_fcos/rotated-fcos_r18_fpn_synthetic.py')
    assert sample_kind(MODELS.build(fcos)) is None


def test_anchor_samples_are_the_heads_positives():
    # The recorded positive anchors are exactly those the head's targets
    # label with a class; the instances are one per GT box, labelled as it;
    # no predict pass runs.
    model = MODELS.build(_cfg(**LOSS_PASS))
    assert model._sample_kind == ANCHOR
    inputs, samples = demo_batch()
    head = model.student.bbox_head
    calls = []
    for detector in (model.student, model.teacher):
        detector.bbox_head.predict_by_feat = lambda *a, **k: calls.append(1)
    losses = model.loss(inputs, samples)
    assert calls == [] and torch.isfinite(losses['loss_isd_feat'])
    records = model._samples.records
    assert len(records) == len(samples)
    with torch.no_grad():
        outs = head(model.student.extract_feat(inputs))
        sizes = [s.shape[-2:] for s in outs[0]]
        anchors, valid = head.get_anchors(
            sizes, [s.metainfo for s in samples], device=inputs.device)
        labels = head.get_targets(anchors, valid,
                                  [s.gt_instances for s in samples],
                                  [s.metainfo for s in samples])[0]
    per_image = torch.cat([lvl.reshape(len(samples), -1) for lvl in labels],
                          dim=1)
    for record, sample, lab in zip(records, samples, per_image):
        positive = (lab < head.num_classes).nonzero(as_tuple=True)[0]
        assert sorted(record['index'].tolist()) == positive.tolist()
        assert len(record['index']) > 0
        assert torch.equal(lab[record['index']],
                           sample.gt_instances.labels[record['gt']])
    context = model.distill_context(inputs, samples)
    for preds, sample in zip(context.teacher_preds, samples):
        gts = sample.gt_instances
        assert 0 < len(preds) <= len(gts)
        assert set(preds.labels.tolist()) <= set(gts.labels.tolist())
        assert ((preds.scores >= 0) & (preds.scores <= 1)).all()


def test_roi_samples_use_the_students_positive_rois():
    # Oriented R-CNN: the sampler adds the GT boxes as proposals, so every
    # GT box has a positive RoI and an instance of each detector.
    model = MODELS.build(_pair(RCNN))
    assert model._sample_kind == ROI
    calls = []
    for detector in (model.student, model.teacher):
        detector.rpn_head.predict = lambda *a, **k: calls.append(1)
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    assert calls == [], 'an RPN predict pass ran'
    assert torch.isfinite(losses['loss_isd_feat'])
    losses['loss_isd_feat'].backward()
    context = model.distill_context(inputs, samples)
    for role in ('teacher_preds', 'student_preds'):
        for preds, sample in zip(getattr(context, role), samples):
            assert len(preds) == len(sample.gt_instances)
            assert preds.labels.tolist() == \
                sample.gt_instances.labels.tolist()
            assert preds.bboxes.shape == (len(preds), 5)


@pytest.mark.parametrize('bad', ['both', None])
def test_isd_instances_is_checked(bad):
    with pytest.raises(ValueError, match='isd_instances must be'):
        MODELS.build(_cfg(distill_losses=ISD, isd_instances=bad))


def test_predictions_where_asked_or_no_recorder_applies():
    assert MODELS.build(_cfg(distill_losses=ISD,
                             isd_instances='predictions'))._sample_kind is None
    # The default since the val check (issue 23): the loss pass, where
    # both heads are anchor heads (this pair's rotated RetinaNets).
    assert MODELS.build(_cfg(distill_losses=ISD))._sample_kind == 'anchor'
    fcos = 'rotated_fcos/rotated-fcos_r{}_fpn_synthetic.py'
    assert MODELS.build(_pair(fcos))._sample_kind is None
