"""configs/dota/ as a DOTA user runs them.

Every config loads and builds (pretrained init off: nothing can be
downloaded here).  Drift: each DKD config's teacher is mmrotate's packaged
config, unchanged, with its model-zoo weights as default checkpoint, and
each student is that config's model except the keys listed in
dota_families.py (a renamed field shows up as an unexpected key).  Each DKD
config trains 2 iterations through tools/train.py on the DOTA sample at the
real patch size, its teacher loaded from a model-zoo style checkpoint; the
rotated RetinaNet run is then tested on the patches of one scene
(tools/test.py --out) and merged back to that scene (tools/data/dota/merge.py).
"""
import glob
import os.path as osp
import re
import shutil
from typing import Callable, Dict, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmrotate.structures.bbox import rbox2qbox

import dkd_mm  # noqa: F401  (registration; the run checkpoints' allow-list)
from dkd_mm.datasets import DOTA_V1_CLASSES, parse_patch_name
from dkd_mm.distillers.builder import build_model, model_config
from dkd_mm.evaluation import dota_merge
from dkd_mm.hooks.teacher_hook import lr_warmup_iters
from dkd_mm.registry import MODELS
from dkd_mm.testing._utils import built_param_schedulers
from tests.test_tools.conftest import run_tool
from .dota_families import (CONFIGS, DISTILL_KEYS, DKD_CONFIGS, DKD_LOSSES,
                            FAMILIES, LITE, MISSING, PLAIN_STUDENTS, R18,
                            RTMDET, STUDENTS, UPSTREAM, dota_config, drift,
                            edited_configs, get_key, student_of, unscoped,
                            unscoped_tree, zoo_weights)

# The TSA student of RTMDet-R's DKD config, where `cuda_box_loss` is set.
RTMDET_TSA_STUDENT = 'rotated-rtmdet_tiny_tsa_3x_dota.py'


@pytest.mark.parametrize(
    'path',
    sorted(glob.glob(osp.join(CONFIGS, 'dota', '*.py'))),
    ids=osp.basename)
def test_config_loads_and_builds(path):
    cfg = Config.fromfile(path)
    dkd = cfg.model.type == 'dkd_mm.DKDDistiller'
    # What a user passes with --cfg-options where nothing can be downloaded.
    cfg.merge_from_dict({
        'model.student.backbone.init_cfg': None,
        'model.teacher_ckpt': None
    } if dkd else {'model.backbone.init_cfg': None})
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    if not dkd:
        # The teachers (*_r50_*) are upstream's; the students ResNet-18 but
        # RTMDet-R tiny's, upstream's CSPNeXt with TSA around its box loss.
        if 'rtmdet' in osp.basename(path):
            assert type(model.backbone).__name__ == 'CSPNeXt'
            assert model.bbox_head.loss_bbox.__class__.__name__ == 'TSALoss'
        else:
            assert model.backbone.depth == (50 if '_r50_' in path else 18)
        return
    # GD and ISD compare the FPN levels one by one: the student's (through
    # the adapters) must have the teacher's shapes.
    inputs = torch.zeros(1, 3, 128, 128)
    with torch.no_grad():
        student = model.student.extract_feat(inputs)
        teacher = model.teacher.extract_feat(inputs)
        student = [adapt(f) for adapt, f in zip(model.adapters, student)]
    assert [f.shape for f in student] == [f.shape for f in teacher]
    # RTMDet-R's CSPNeXtPAFPN: three levels, the FPNs five.
    num_levels = 3 if osp.basename(path) == RTMDET.dkd else 5
    assert len(model.adapters) == len(teacher) == num_levels
    assert teacher[0].shape[1] == 256


@pytest.mark.parametrize('name', sorted(DKD_CONFIGS))
def test_dkd_teacher_schedule_and_data_are_upstream(name):
    family = DKD_CONFIGS[name]
    cfg = dota_config(name)
    packaged = Config.fromfile(osp.join(UPSTREAM, family.upstream))
    assert cfg.model.teacher == 'mmrotate::' + family.upstream
    assert model_config(cfg.model.teacher, 'teacher')[0] == packaged.model
    # The default checkpoint: that config's weights in mmrotate's model zoo.
    assert cfg.model.teacher_ckpt == zoo_weights(family.upstream)
    # Upstream's schedule, optimizer and batch size; dkd_mm's DOTA data.
    for key in ('train_cfg', 'param_scheduler', 'optim_wrapper'):
        assert unscoped(cfg[key]) == packaged[key], key
    assert cfg.train_dataloader.batch_size == \
        packaged.train_dataloader.batch_size == \
        cfg.auto_scale_lr.base_batch_size
    data = Config.fromfile(
        osp.join(CONFIGS, '_base_', 'datasets', 'dota_v1.py'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator'):
        assert cfg[key] == data[key], key
    # The project's DKD defaults; distillation warms up with the lr.
    dkd = Config.fromfile(osp.join(CONFIGS, '_base_', 'distill', 'dkd.py'))
    assert cfg.model.distill_losses == dkd.dkd_distill_losses
    [hook] = cfg.custom_hooks
    [warmup] = [s for s in cfg.param_scheduler if s.type == 'LinearLR']
    assert hook.type == 'dkd_mm.DKDTeacherHook' and hook.warmup_iters == 'lr'
    assert not warmup.by_epoch and lr_warmup_iters(
        built_param_schedulers(cfg), 100) == warmup.end == 500


def test_rtmdet_dkd_is_mmrotates_pair():
    # Teacher and student are mmrotate's RTMDet-R l and tiny: the teacher
    # unchanged, with its model-zoo weights; the student's model, schedule,
    # hooks and data (pipelines, batch size) are the tiny config's, but for
    # TSA around its box loss and dkd_mm's loader.
    cfg = dota_config(RTMDET.dkd)
    teacher = Config.fromfile(osp.join(UPSTREAM, RTMDET.teacher))
    tiny = Config.fromfile(osp.join(UPSTREAM, RTMDET.student))
    assert cfg.model.teacher == 'mmrotate::' + RTMDET.teacher
    assert model_config(cfg.model.teacher, 'teacher')[0] == teacher.model
    assert cfg.model.teacher_ckpt == zoo_weights(RTMDET.teacher)
    student = student_of(cfg)
    unexpected, unused = drift(student, tiny.model, RTMDET.tsa_keys)
    assert not unexpected and not unused, (unexpected, unused)
    loss = get_key(student, RTMDET.tsa_keys[-1])
    assert loss.type == 'dkd_mm.TSALoss'
    assert loss.base_loss == tiny.model.bbox_head.loss_bbox  # cuda_box_loss
    for key in ('train_cfg', 'param_scheduler', 'optim_wrapper',
                'default_hooks', 'val_evaluator', 'test_evaluator'):
        assert unscoped_tree(cfg[key]) == tiny[key], key
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ours, theirs = unscoped_tree(cfg[key]), tiny[key].to_dict()
        assert ours['dataset'].pop('type') == 'dkd_mm.RobustDOTADataset'
        theirs['dataset'].pop('type')
        assert ours == theirs, key
    assert cfg.auto_scale_lr.base_batch_size == \
        tiny.train_dataloader.batch_size == 8
    # The project's DKD defaults; upstream's hooks (EMA) and the teacher
    # hook, distillation warming up with the lr.
    dkd = Config.fromfile(osp.join(CONFIGS, '_base_', 'distill', 'dkd.py'))
    assert cfg.model.distill_losses == dkd.dkd_distill_losses
    *hooks, hook = cfg.custom_hooks
    assert unscoped_tree(hooks) == tiny.custom_hooks
    [warmup] = [s for s in cfg.param_scheduler if s.type == 'LinearLR']
    assert hook.type == 'dkd_mm.DKDTeacherHook' and hook.warmup_iters == 'lr'
    assert not warmup.by_epoch and lr_warmup_iters(
        built_param_schedulers(cfg), 100) == warmup.end == 1000


@pytest.mark.parametrize('name', sorted(STUDENTS))
def test_student_is_upstream_but_for_the_listed_keys(name):
    family, keys = STUDENTS[name]
    tsa = name not in PLAIN_STUDENTS
    listed = keys + (family.tsa_keys if tsa else ())
    student = student_of(dota_config(name))
    upstream = Config.fromfile(osp.join(UPSTREAM, family.upstream)).model
    unexpected, unused = drift(student, upstream, listed)
    assert not unexpected, f'{name} differs from mmrotate::' \
        f'{family.upstream} outside {listed}: {unexpected}'
    assert not unused, f'{name}: listed but unchanged: {unused}'
    if keys in (R18, LITE):
        assert student.backbone.depth == 18
        assert student.backbone.init_cfg == dict(
            type='Pretrained', checkpoint='torchvision://resnet18')
        assert student.neck.in_channels == [64, 128, 256, 512]
    if keys == LITE:  # the lite student's neck and head: 128 channels
        assert (student.neck.out_channels, student.bbox_head.in_channels,
                student.bbox_head.feat_channels) == (128, 128, 128)
    if tsa:  # TSA wraps upstream's box loss, unchanged
        loss = get_key(student, family.tsa_keys[-1])
        assert loss.type == 'dkd_mm.TSALoss'
        assert loss.base_loss == get_key(upstream, family.tsa_keys[-1])


def test_a_renamed_field_shows_as_unexpected(tmp_path):
    family = FAMILIES['rotated_retinanet']
    root = edited_configs(
        str(tmp_path), family.student, 'neck=dict(in_channels=',
        'neck=dict(in_channel=')
    upstream = Config.fromfile(osp.join(UPSTREAM, family.upstream)).model
    for name, listed in ((family.student, R18), (family.dkd,
                                                 R18 + family.tsa_keys)):
        student = student_of(dota_config(name, root))
        unexpected, unused = drift(student, upstream, listed)
        assert unexpected == {
            'neck.in_channel': ([64, 128, 256, 512], MISSING)
        }
        assert unused == ['neck.in_channels']


@pytest.fixture(scope='module')
def teacher_ckpts(tmp_path_factory) -> Callable[[str], str]:
    """A checkpoint of a teacher config's detector as mmrotate's model zoo
    ships them (the detector's ``state_dict`` and ``meta``), made once per
    config."""
    root = str(tmp_path_factory.mktemp('teachers'))
    paths: Dict[str, str] = {}

    def get(teacher: str) -> str:
        if teacher not in paths:
            model = build_model(*model_config(teacher, 'teacher'))
            path = osp.join(root, osp.basename(teacher)[:-3] + '.pth')
            torch.save(
                dict(
                    state_dict=model.state_dict(),
                    meta=dict(epoch=12, CLASSES=DOTA_V1_CLASSES)), path)
            paths[teacher] = path
        return paths[teacher]

    yield get
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope='module')
def train_runs(dota_sample, teacher_ckpts, tmp_path_factory):
    """``run(name) -> (work_dir, log)``: 2 iterations (2 patches, batch 1, one
    epoch) of a DKD config through tools/train.py, once per config.  Rotated
    FCOS and RTMDet-R run with `cuda_box_loss = False` set in their student
    configs."""
    root = str(tmp_path_factory.mktemp('train'))
    cpu_students = {
        'fcos': FAMILIES['rotated_fcos'].student,
        'rtmdet': RTMDET_TSA_STUDENT
    }
    cpu_configs = {
        key:
        edited_configs(
            osp.join(root, 'cpu', key), student, 'cuda_box_loss = True\n',
            'cuda_box_loss = False\n')
        for key, student in cpu_students.items()
    }
    runs: Dict[str, Tuple[str, str]] = {}

    def run(name: str) -> Tuple[str, str]:
        if name in runs:
            return runs[name]
        configs = next(
            (cpu_configs[key] for key in cpu_configs if key in name), CONFIGS)
        teacher = dota_config(name, configs).model.teacher
        work_dir = osp.join(root, name[:-3])
        options = [
            f'model.teacher_ckpt={teacher_ckpts(teacher)}',
            'model.student.backbone.init_cfg=None',
            f'train_dataloader.dataset.data_root={dota_sample["data_root"]}',
            'train_dataloader.dataset.indices=2',
            'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_cfg.max_epochs=1', 'val_cfg=None', 'val_dataloader=None',
            'val_evaluator=None', 'default_hooks.logger.interval=1'
        ]
        if name != FAMILIES['rotated_retinanet'].dkd:  # the one tested on
            options.append('default_hooks.checkpoint=None')
        log = run_tool([
            'tools/train.py',
            osp.join(configs, 'dota', name), '--work-dir', work_dir,
            '--cfg-options'
        ] + options)
        runs[name] = (work_dir, log)
        return runs[name]

    yield run
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(DKD_LOSSES))
def test_dkd_trains_two_iterations_on_1024_px_patches(name, train_runs):
    _, log = train_runs(name)
    assert re.findall(r'Epoch\(train\)\s+\[1\]\[\s*(\d+)/(\d+)\]',
                      log) == [('1', '2'), ('2', '2')]
    for key in DKD_LOSSES[name] + DISTILL_KEYS:
        assert f' {key}: ' in log, key
    assert 'sha256' in log  # the hook checked the loaded teacher
    if 'fcos' in name or name == RTMDET.dkd:
        # The CPU switch reached the DKD config's student.
        assert "type='mmrotate.GDLoss'" in log


@pytest.mark.slow
def test_test_and_merge_patches_to_the_full_scene(dota_sample, train_runs,
                                                  tmp_path):
    family = FAMILIES['rotated_retinanet']
    work_dir, _ = train_runs(family.dkd)
    # The patches of P0001 (the data set is sorted by name), tested with the
    # DKD config (its student alone); every box enters the merge.
    patches = [p for p in dota_sample['patches'] if p.startswith('P0001__')]
    preds = str(tmp_path / 'preds.pkl')
    run_tool([
        'tools/test.py',
        osp.join(CONFIGS, 'dota', family.dkd),
        osp.join(work_dir, 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--out', preds, '--cfg-options',
        f'test_dataloader.dataset.data_root={dota_sample["data_root"]}',
        f'test_dataloader.dataset.indices={len(patches)}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'model.student.test_cfg.score_thr=0.0',
        'model.student.test_cfg.max_per_img=100'
    ])
    out_dir = str(tmp_path / 'Task1')
    log = run_tool([
        'tools/data/dota/merge.py', preds, '--out-dir', out_dir, '--ann-dir',
        osp.join(dota_sample['release_dir'], 'train', 'labelTxt')
    ])
    assert 'merged mAP@0.5' in log
    merged = re.search(
        r'Merged (\d+) patches into (\d+) images, (\d+) '
        'detections', log)
    assert merged.group(1, 2) == (str(len(patches)), '1')
    num_dets = int(merged.group(3))

    lines = {}
    for cls in DOTA_V1_CLASSES:
        with open(osp.join(out_dir, f'Task1_{cls}.txt')) as f:
            lines[cls] = [line.split() for line in f.read().splitlines()]
    assert osp.isfile(osp.join(out_dir, 'Task1.zip'))
    # One line per merged detection: `img_id score x1 y1 ... x4 y4`, named
    # by the original image, inside it.
    assert 0 < num_dets == sum(len(v) for v in lines.values())
    rows = [f for v in lines.values() for f in v]
    assert all(len(f) == 10 and f[0] == 'P0001' for f in rows)
    assert all(0 <= float(f[1]) <= 1 for f in rows)
    corners = np.array([f[2:] for f in rows], np.float64)
    centres = corners.reshape(-1, 4, 2).mean(1)
    # In full-image pixels: inside the scene (give or take the few pixels a
    # box regressed from an anchor at a patch's border moves), from all over
    # it, not only from its first 1024 px patch.
    width, height = dota_sample['images']['P0001']
    low, high = np.array([-32, -32]), np.array([width + 32, height + 32])
    assert ((centres > low) & (centres < high)).all()
    assert (centres.max(0) > 1024).all()
    # The best detection of each class over all patches survives the NMS;
    # it is written moved by its patch's offset.
    detections = dota_merge.load_patch_predictions(preds)
    assert sorted(d.img_id for d in detections) == patches
    for label, cls in enumerate(DOTA_V1_CLASSES):
        candidates = [(float(d.scores[i]), d, i) for d in detections
                      for i in np.flatnonzero(d.labels == label)]
        if not candidates:
            assert lines[cls] == []
            continue
        score, best, i = max(candidates, key=lambda c: c[0])
        _, _, x, y = parse_patch_name(best.img_id)
        box = torch.from_numpy(best.bboxes[i:i + 1].copy())
        box[:, :2] += torch.tensor([x, y], dtype=box.dtype)
        expected = rbox2qbox(box)[0].tolist()
        assert any(
            abs(float(f[1]) - score) < 1e-4 and all(
                abs(float(v) - e) < 0.011 for v, e in zip(f[2:], expected))
            for f in lines[cls]), (cls, score, expected)


@pytest.mark.parametrize('name', list(FAMILIES))
def test_teacher_config_is_mmrotates_unchanged(name):
    family = FAMILIES[name]
    teacher = osp.join(CONFIGS, 'dota',
                       osp.basename(family.upstream).replace('-rbox', ''))
    upstream = Config.fromfile(osp.join(UPSTREAM, family.upstream))
    cfg = Config.fromfile(teacher).to_dict()
    assert cfg.pop('custom_imports')['imports'] == ['dkd_mm']
    assert unscoped_tree(cfg) == upstream.to_dict()
