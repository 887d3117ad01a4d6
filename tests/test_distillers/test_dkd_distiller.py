"""DKDDistiller over real mmrotate detectors built from the repo's configs."""
import copy
import os
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import ConfigDict

import dkd_mm  # noqa: F401
from dkd_mm.distillers import DKDDistiller
from dkd_mm.functional import box_tensor
from dkd_mm.registry import MODELS
from dkd_mm.testing import demo_batch, get_model_cfg
from dkd_mm.utils import UnsafeCheckpointError

STUDENT = 'rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'
TEACHER = 'rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py'


def _cfg(**kwargs) -> ConfigDict:
    cfg = ConfigDict(
        type='dkd_mm.DKDDistiller',
        student=get_model_cfg(STUDENT),
        teacher=get_model_cfg(TEACHER),
        teacher_ckpt=None,
        distill_losses=dict(loss_fitnet=dict(type='FitNetLoss')))
    cfg.update(kwargs)
    return cfg


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory) -> str:
    """A teacher checkpoint as an mmengine run would save it."""
    torch.manual_seed(0)
    teacher = MODELS.build(get_model_cfg(TEACHER))
    path = str(tmp_path_factory.mktemp('ckpt') / 'teacher.pth')
    torch.save({'meta': {'iter': 1}, 'state_dict': teacher.state_dict()}, path)
    return path


def test_loss_keys_gradients_and_frozen_teacher(teacher_ckpt):
    model = MODELS.build(_cfg(teacher_ckpt=teacher_ckpt))
    assert isinstance(model, DKDDistiller)
    model.train()
    assert not model.teacher.training, 'the teacher must stay in eval'
    assert all(not p.requires_grad for p in model.teacher.parameters())
    before = copy.deepcopy(model.teacher.state_dict())

    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    assert {'loss_cls', 'loss_bbox', 'loss_fitnet'} <= set(losses)
    assert all('loss' in k for k in losses)
    total = sum(v.sum() if isinstance(v, torch.Tensor) else sum(v)
                for v in losses.values())
    assert torch.isfinite(total)
    total.backward()

    student_grads = [p.grad for p in model.student.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in student_grads)
    assert all(p.grad is None for p in model.teacher.parameters())
    # Student neck 64 channels, teacher 128: one 1x1 adapter per level.
    assert len(model.adapters) == 5
    assert all(
        isinstance(a, torch.nn.Conv2d) and a.in_channels == 64
        and a.out_channels == 128 for a in model.adapters)
    assert all(a.weight.grad.abs().sum() > 0 for a in model.adapters)

    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    optim.step()
    after = model.teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_fitnet_only_reaches_student_neck_and_adapter():
    model = MODELS.build(_cfg())
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    losses['loss_fitnet'].backward()
    assert model.adapters[0].weight.grad.abs().sum() > 0
    assert model.student.neck.fpn_convs[0].conv.weight.grad.abs().sum() > 0
    assert model.student.bbox_head.retina_cls.weight.grad is None


def test_equal_widths_need_no_adapter():
    cfg = _cfg()
    cfg.student.neck.out_channels = 128
    cfg.student.bbox_head.in_channels = 128
    model = MODELS.build(cfg)
    assert all(isinstance(a, torch.nn.Identity) for a in model.adapters)


def test_predict_is_the_students():
    model = MODELS.build(_cfg()).eval()
    inputs, samples = demo_batch()
    with torch.no_grad():
        ours = model.predict(inputs, copy.deepcopy(samples))
        theirs = model.student.predict(inputs, copy.deepcopy(samples))
    assert len(ours) == 2
    for a, b in zip(ours, theirs):
        assert torch.equal(a.pred_instances.scores, b.pred_instances.scores)
        assert box_tensor(a.pred_instances.bboxes).shape[-1] == 5


def test_state_dict_holds_student_not_teacher(teacher_ckpt):
    model = MODELS.build(_cfg(teacher_ckpt=teacher_ckpt))
    keys = list(model.state_dict())
    assert any(k.startswith('student.') for k in keys)
    assert not any(k.startswith('teacher.') for k in keys)
    # Loading a run checkpoint keeps the teacher loaded from teacher_ckpt.
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    other = MODELS.build(_cfg(teacher_ckpt=teacher_ckpt))
    result = other.load_state_dict(model.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for k, v in other.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k])


def test_teacher_from_config_file_and_mmrotate_path():
    model = MODELS.build(
        _cfg(
            teacher=osp.join(dkd_mm.testing._utils.REPO_ROOT, 'configs',
                             TEACHER)))
    assert model.teacher.backbone.depth == 50
    upstream = 'mmrotate::rotated_retinanet/' \
        'rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py'
    with pytest.raises(ValueError, match='num_classes=5.*num_classes=15'):
        MODELS.build(_cfg(teacher=upstream))


@pytest.mark.parametrize(
    'change, error, match',
    [
        (dict(teacher_ckpt='/no/such/teacher.pth'), FileNotFoundError,
         'no/such/teacher.pth'),
        # A missing default says how to get it.
        (dict(teacher_ckpt='/no/such/teacher.pth'), FileNotFoundError,
         r'Train the teacher first \(python tools/train\.py .*\).*'
         r'model\.teacher_ckpt=PATH'),
        (dict(distill_losses=dict(loss_x=dict(type='FitNetLoss', wieght=1))),
         TypeError, 'distill_losses.loss_x.*wieght'),
        (dict(distill_losses=dict(fitnet=dict(type='FitNetLoss'))), ValueError,
         'must contain "loss"'),
        (dict(teacher='configs/nope.py'), FileNotFoundError, 'nope.py'),
    ])
def test_config_errors_name_the_field(change, error, match):
    with pytest.raises(error, match=match):
        MODELS.build(_cfg(**change))


def test_class_and_level_mismatch():
    cfg = _cfg()
    cfg.teacher.bbox_head.num_classes = 3
    with pytest.raises(ValueError, match='class counts'):
        MODELS.build(cfg)
    cfg = _cfg()
    cfg.student.neck.num_outs = 4
    with pytest.raises(
            ValueError,
            match=r'level counts: the student\'s neck gives 4 levels '
            r'\(channels \[64, 64, 64, 64\]\), the teacher\'s neck 5'):
        MODELS.build(cfg)


class _RunsCode:

    def __reduce__(self):
        return (os.system, ('touch /tmp/dkd_mm_pwned', ))


def test_refuses_teacher_ckpt_that_would_run_code(tmp_path):
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'state_dict': {}, 'payload': _RunsCode()}, f)
    if osp.exists('/tmp/dkd_mm_pwned'):
        os.remove('/tmp/dkd_mm_pwned')
    with pytest.raises(UnsafeCheckpointError, match='refusing'):
        MODELS.build(_cfg(teacher_ckpt=str(path)))
    assert not osp.exists('/tmp/dkd_mm_pwned')


def test_teacher_ckpt_mismatch(tmp_path):
    path = str(tmp_path / 'wrong.pth')
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match='does not match the teacher config'):
        MODELS.build(_cfg(teacher_ckpt=path))
    torch.save({'state_dict': {'backbone.nope': torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match='missing keys'):
        MODELS.build(_cfg(teacher_ckpt=path))


def test_distill_scale_zero_skips_distillation():
    model = MODELS.build(_cfg())
    model.distill_scale = 0.0
    inputs, samples = demo_batch(empty=[1])
    losses = model.loss(inputs, samples)
    assert 'loss_fitnet' not in losses
    assert {'loss_cls', 'loss_bbox'} <= set(losses)


def test_training_predictions_use_pred_cfg_and_restore_test_cfg():
    # ISD's predictions during training send at most pred_cfg['nms_pre']
    # priors per level into NMS and keep max_per_img; test-time settings
    # (the evaluator's) are restored afterwards.
    from dkd_mm.distillers.context import predict_from_feats
    model = MODELS.build(_cfg()).eval()
    head = model.student.bbox_head
    before = copy.deepcopy(head.test_cfg)
    inputs, samples = demo_batch()
    # An untrained head scores every prior alike: lower the threshold so
    # that every prior passes and only nms_pre / max_per_img bound it.
    cfg = dict(nms_pre=3, score_thr=0.0, max_per_img=2)
    with torch.no_grad():
        feats = model.student.extract_feat(inputs)
        light = predict_from_feats(model.student, feats, samples, cfg)
        full = predict_from_feats(model.student, feats, samples,
                                  dict(score_thr=0.0))
    assert all(len(r) <= 2 for r in light)
    assert max(len(r) for r in full) > 2
    assert head.test_cfg == before
    assert model.pred_cfg == dict(nms_pre=100, score_thr=0.05, max_per_img=100)
    assert MODELS.build(_cfg(pred_cfg=None)).pred_cfg is None


def test_student_predictions_reuse_the_loss_pass_head_outputs():
    # ISD's student predictions decode the dense head's outputs of the
    # student's own loss pass: the head runs once a step, and the result is
    # what running the head again on the same features gives.
    from dkd_mm.distillers.context import predict_from_feats
    model = MODELS.build(
        _cfg(
            distill_losses=dict(
                loss_isd=dict(type='InstanceSelectionDistillLoss')),
            pred_cfg=dict(nms_pre=20, score_thr=0.0, max_per_img=10),
            isd_instances='predictions'))
    assert model._head_module == 'bbox_head'
    assert MODELS.build(_cfg())._head_module is None  # no loss asks
    model.train()
    calls = []
    model.student.bbox_head.register_forward_hook(
        lambda *args: calls.append(1))
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    assert len(calls) == 1, 'the student head ran more than once'
    assert {'loss_isd_feat', 'loss_isd_relation'} <= set(losses)
    raw_feats = model._recorder.outputs['neck']
    reused = predict_from_feats(model.student, raw_feats, samples,
                                model.pred_cfg,
                                model._recorder.outputs['bbox_head'])
    again = predict_from_feats(model.student, raw_feats, samples,
                               model.pred_cfg)
    assert [len(r) for r in reused] == [len(r) for r in again]
    assert max(len(r) for r in reused) > 0
    for a, b in zip(reused, again):
        torch.testing.assert_close(a.bboxes, b.bboxes)
        torch.testing.assert_close(a.scores, b.scores)


class _RecordingLoss(torch.nn.Module):
    """Asks for every field of the context, records it, returns a zero term
    and a statistic."""

    def forward(self, student_feats, teacher_feats, gt_bboxes, gt_labels,
                batch_input_shape, teacher_preds, student_preds, train_status):
        self.seen = dict(
            student_feats=student_feats,
            teacher_feats=teacher_feats,
            gt_bboxes=gt_bboxes,
            gt_labels=gt_labels,
            batch_input_shape=batch_input_shape,
            teacher_preds=teacher_preds,
            student_preds=student_preds,
            train_status=train_status)
        return dict(
            term=0 * student_feats[0].sum() + 1.5,
            log_boxes=sum(len(p) for p in teacher_preds))


@pytest.fixture
def recording_loss():
    MODELS.register_module(
        'DKDTestRecordingLoss', module=_RecordingLoss, force=True)
    yield 'DKDTestRecordingLoss'
    MODELS.module_dict.pop('DKDTestRecordingLoss', None)


def _recording_cfg(loss_type, **kwargs):
    return _cfg(
        distill_losses=dict(
            loss_rec=dict(type=loss_type), loss_rec2=dict(type=loss_type)),
        pred_cfg=dict(nms_pre=20, score_thr=0.0, max_per_img=10),
        isd_instances='predictions',
        **kwargs)


def test_lazy_fields_computed_once_per_step(recording_loss, monkeypatch):
    # Two losses ask for both detectors' predictions and the status: each
    # is computed once a step, and again the next step.
    from dkd_mm.distillers import dkd_distiller
    calls = []

    def counted(function, name):

        def wrapper(*args, **kwargs):
            calls.append(name if name != 'predict' else args[0])
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(dkd_distiller, 'predict_from_feats',
                        counted(dkd_distiller.predict_from_feats, 'predict'))
    monkeypatch.setattr(dkd_distiller, 'current_train_status',
                        counted(dkd_distiller.current_train_status, 'status'))
    model = MODELS.build(_recording_cfg(recording_loss))
    inputs, samples = demo_batch()
    for step in (1, 2):
        model.loss(inputs, samples)
        assert calls.count(model.teacher) == step
        assert calls.count(model.student) == step
        assert calls.count('status') == step


def test_logged_statistics_are_not_summed(recording_loss):
    # log_* values come back under a key without 'loss': mmengine's
    # parse_losses logs them and adds only 'loss' keys; distill_scale
    # scales the terms, not the statistics.
    model = MODELS.build(_recording_cfg(recording_loss))
    model.distill_scale = 0.5
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    assert losses['loss_rec_term'].item() == 0.75
    boxes = sum(
        len(p) for p in model.distill_losses['loss_rec'].seen['teacher_preds'])
    assert boxes > 0
    assert losses['rec_boxes'].item() == boxes
    assert losses['rec2_boxes'].item() == boxes
    total, log_vars = model.parse_losses(losses)
    expected = sum(v.mean() if isinstance(v, torch.Tensor) else sum(x.mean()
                                                                    for x in v)
                   for k, v in losses.items() if 'loss' in k)
    torch.testing.assert_close(total, expected)
    assert log_vars['rec_boxes'].item() == boxes


def test_isd_counts_logged_through_parse_losses():
    model = MODELS.build(
        _cfg(
            distill_losses=dict(
                loss_isd=dict(
                    type='InstanceSelectionDistillLoss', score_thr=0.)),
            pred_cfg=dict(nms_pre=20, score_thr=0.0, max_per_img=10),
            isd_instances='predictions'))
    inputs, samples = demo_batch()
    losses = model.loss(inputs, samples)
    keys = ('isd_candidates', 'isd_selected', 'isd_outliers',
            'isd_false_positives')
    assert set(keys) <= set(losses)
    _, log_vars = model.parse_losses(losses)
    counts = [log_vars[k].item() for k in keys]
    # At most 10 per image (max_per_img), every score above 0.
    assert 0 < counts[0] <= 20 and counts[0] == int(counts[0])
    assert counts[1] + counts[2] + counts[3] <= counts[0]
    assert not any('loss' in k for k in keys)


def test_distill_context_is_what_the_losses_receive(recording_loss):
    # Tools take the step's context from distill_context: the same values
    # the losses get in loss(), student in eval mode for both.
    model = MODELS.build(_recording_cfg(recording_loss)).eval()
    inputs, samples = demo_batch()
    model.loss(inputs, samples)
    seen = model.distill_losses['loss_rec'].seen
    context = model.distill_context(inputs, samples)
    for name in ('student_feats', 'teacher_feats', 'gt_bboxes', 'gt_labels'):
        for a, b in zip(getattr(context, name), seen[name]):
            torch.testing.assert_close(a, b)
    assert context.batch_input_shape == seen['batch_input_shape']
    assert context.train_status == seen['train_status']
    for name in ('teacher_preds', 'student_preds'):
        for a, b in zip(getattr(context, name), seen[name]):
            torch.testing.assert_close(a.bboxes, b.bboxes)
            torch.testing.assert_close(a.scores, b.scores)
