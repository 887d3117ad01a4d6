"""The NWPU VHR-10 configs of mmdet's 1x recipe (configs/nwpu/*_1x_nwpu.py;
the from-scratch ones, *_scratch_nwpu.py, are tests/test_families').

Every config loads and builds with its pretrained init switched off as a
user does without downloads (cfg options); teachers and students are mmdet's
packaged configs except for the fields listed here, so a renamed or dropped
field fails; each DKD config trains 2 iterations through tools/train.py on
an NWPU-format sample at the data base's 800 px.
"""
import copy
import glob
import math
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from dkd_mm.distillers import DKDDistiller
from dkd_mm.hooks.teacher_hook import lr_warmup_iters
from dkd_mm.registry import MODELS
from dkd_mm.testing._utils import REPO_ROOT, built_param_schedulers
from ..test_tools.conftest import run_tool

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'nwpu')
DATA_BASE = osp.join(REPO_ROOT, 'configs/_base_/datasets/nwpu_vhr10.py')
DKD_BASE = osp.join(REPO_ROOT, 'configs/_base_/distill/dkd.py')
R18_CHANNELS = [64, 128, 256, 512]
IMAGENET_RGB = {
    'data_preprocessor.mean': [123.675, 116.28, 103.53],
    'data_preprocessor.std': [58.395, 57.12, 57.375],
    'data_preprocessor.bgr_to_rgb': True,
}


@dataclass(frozen=True)
class Family:
    """A detector family's configs (stems under configs/nwpu/) and the
    fields in which its teacher may differ from mmdet's config."""
    upstream: str
    teacher: str
    student: str
    tsa: str
    dkd: str
    head: str  # the box head: its num_classes and its box loss (TSA)
    delta_tsa: bool  # TSA on coder deltas (reg_decoded_bbox, delta_stds)
    teacher_changes: Dict[str, Any] = field(default_factory=dict)


FAMILIES = {
    'retinanet':
    Family('retinanet/retinanet_r50_fpn_1x_coco.py',
           'retinanet_r50_fpn_1x_nwpu', 'retinanet_r18_fpn_1x_nwpu',
           'retinanet_r18_fpn_tsa_1x_nwpu',
           'dkd_retinanet_r50-r18_fpn_1x_nwpu', 'bbox_head', True),
    'faster_rcnn':
    Family('faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
           'faster-rcnn_r50_fpn_1x_nwpu', 'faster-rcnn_r18_fpn_1x_nwpu',
           'faster-rcnn_r18_fpn_tsa_1x_nwpu',
           'dkd_faster-rcnn_r50-r18_fpn_1x_nwpu', 'roi_head.bbox_head', True),
    # The caffe-style upstream gives way to torchvision's pytorch-style
    # ResNet-50 and its input normalisation, the student's (see the config).
    'fcos':
    Family(
        'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
        'fcos_r50_fpn_1x_nwpu',
        'fcos_r18_fpn_1x_nwpu',
        'fcos_r18_fpn_tsa_1x_nwpu',
        'dkd_fcos_r50-r18_fpn_1x_nwpu',
        'bbox_head',
        False,
        teacher_changes={
            'backbone.style': 'pytorch',
            'backbone.init_cfg.checkpoint': 'torchvision://resnet50',
            **IMAGENET_RGB
        }),
}
# Not the model: what the student and teacher share with mmdet's config.
SCHEDULE_KEYS = ('train_cfg', 'optim_wrapper', 'param_scheduler',
                 'auto_scale_lr', 'default_scope')
_CONFIGS: Dict[str, Config] = {}


def load(path: str) -> Config:
    """A config, by ``configs/nwpu`` stem or ``mmdet::`` path, cached."""
    if path not in _CONFIGS:
        if path.startswith('mmdet::'):
            # Through `_base_`, as our configs take it (mmengine adds the
            # `_scope_` keys that way).
            text = f'_base_ = [{path!r}]'
            _CONFIGS[path] = Config.fromstring(text, '.py')
        else:
            _CONFIGS[path] = Config.fromfile(
                osp.join(CONFIG_DIR, path + '.py'))
    return copy.deepcopy(_CONFIGS[path])


def get_key(cfg: dict, key: str) -> Any:
    for part in key.split('.'):
        cfg = cfg[part]
    return cfg


def set_key(cfg: dict, key: str, value: Any) -> None:
    *parents, last = key.split('.')
    for part in parents:
        cfg = cfg[part]
    cfg[last] = value


def flatten(cfg: Any, prefix: str = '') -> Dict[str, Any]:
    """Dotted keys of nested dicts -> leaves (lists and tuples are leaves)."""
    if not isinstance(cfg, dict):
        return {prefix: cfg}
    flat: Dict[str, Any] = {}
    for key, value in cfg.items():
        flat.update(flatten(value, f'{prefix}.{key}' if prefix else key))
    return flat


def drift(ours: dict, upstream: dict, changes: Dict[str, Any]) -> List[str]:
    """Dotted keys where ``ours`` differs from ``upstream`` with ``changes``
    applied (key -> new value); empty when nothing else differs."""
    expected = copy.deepcopy(upstream)
    for key, value in changes.items():
        set_key(expected, key, value)
    flat_ours, flat_expected = flatten(ours), flatten(expected)
    return sorted(
        k for k in flat_ours.keys() | flat_expected.keys()
        if flat_ours.get(k, '<missing>') != flat_expected.get(k, '<missing>'))


def teacher_changes(family: Family) -> Dict[str, Any]:
    return {f'{family.head}.num_classes': 10, **family.teacher_changes}


def student_changes(family: Family) -> Dict[str, Any]:
    return {
        **teacher_changes(family), 'backbone.depth': 18,
        'backbone.init_cfg.checkpoint': 'torchvision://resnet18',
        'neck.in_channels': R18_CHANNELS
    }


def tsa_changes(family: Family, upstream: dict) -> Dict[str, Any]:
    """The student's changes plus TSA wrapping the head's upstream loss."""
    tsa = dict(
        type='dkd_mm.TSALoss',
        base_loss=get_key(upstream, f'{family.head}.loss_bbox'))
    changes = student_changes(family)
    if family.delta_tsa:
        tsa['delta_stds'] = get_key(upstream,
                                    f'{family.head}.bbox_coder.target_stds')
        changes[f'{family.head}.reg_decoded_bbox'] = True
    changes[f'{family.head}.loss_bbox'] = tsa
    return changes


def model_dict(cfg: Config) -> dict:
    return cfg.model.to_dict()


@pytest.mark.parametrize('name', list(FAMILIES))
def test_teacher_is_mmdets_config(name):
    family = FAMILIES[name]
    upstream = model_dict(load('mmdet::' + family.upstream))
    ours = model_dict(load(family.teacher))
    assert drift(ours, upstream, teacher_changes(family)) == []


@pytest.mark.parametrize('tsa', [False, True], ids=['plain', 'tsa'])
@pytest.mark.parametrize('name', list(FAMILIES))
def test_student_is_mmdets_config_on_resnet18(name, tsa):
    family = FAMILIES[name]
    upstream = model_dict(load('mmdet::' + family.upstream))
    ours = model_dict(load(family.tsa if tsa else family.student))
    changes = (
        tsa_changes(family, upstream) if tsa else student_changes(family))
    assert drift(ours, upstream, changes) == []


def test_drift_check_catches_a_renamed_field():
    """A renamed override leaves upstream's field and adds a stray one."""
    family = FAMILIES['retinanet']
    upstream = load('mmdet::' + family.upstream)
    renamed = Config.fromstring(
        f"_base_ = ['mmdet::{family.upstream}']\n"
        'model = dict(bbox_head=dict(num_class=10))', '.py')
    changed = drift(
        model_dict(renamed), model_dict(upstream), teacher_changes(family))
    assert changed == ['bbox_head.num_class', 'bbox_head.num_classes']


@pytest.mark.parametrize('role', ['teacher', 'student', 'tsa', 'dkd'])
@pytest.mark.parametrize('name', list(FAMILIES))
def test_schedule_and_data(name, role):
    """mmdet's 1x schedule, lr and batch size; NWPU VHR-10's loaders and
    VOC mAP."""
    family = FAMILIES[name]
    upstream, cfg = load('mmdet::' + family.upstream), load(
        getattr(family, role))
    for key in SCHEDULE_KEYS:
        assert cfg[key] == upstream[key], key
    assert (cfg.train_dataloader.batch_size ==
            upstream.train_dataloader.batch_size)
    data = Config.fromfile(DATA_BASE)
    for split in ('train', 'val', 'test'):
        loader = data[f'nwpu_{split}_dataloader']
        loader.pop('_delete_', None)
        assert cfg[f'{split}_dataloader'] == loader, split
    metric = data.nwpu_val_evaluator
    metric.pop('_delete_')
    assert cfg.val_evaluator == cfg.test_evaluator == metric


@pytest.mark.parametrize('name', list(FAMILIES))
def test_dkd_config(name):
    family = FAMILIES[name]
    cfg, teacher = load(family.dkd), load(family.teacher)
    assert cfg.model.type == 'dkd_mm.DKDDistiller'
    assert cfg.model.student == load(family.tsa).model
    assert cfg.model.teacher == osp.join(CONFIG_DIR, family.teacher + '.py')
    assert cfg.model.distill_losses == Config.fromfile(
        DKD_BASE).dkd_distill_losses
    # The teacher's checkpoint is where training the teacher writes it.
    assert cfg.model.teacher_ckpt == osp.join(
        'work_dirs', family.teacher,
        f'epoch_{teacher.train_cfg.max_epochs}.pth')
    # Distillation warms up with the learning rate: the hook reads it from
    # the schedule (mmdet's 500 iterations, LinearLR or FCOS's ConstantLR).
    lr_warmup = [s for s in cfg.param_scheduler if not s.by_epoch]
    assert len(lr_warmup) == 1 and lr_warmup[0].begin == 0
    hooks = [h for h in cfg.custom_hooks if h.type == 'dkd_mm.DKDTeacherHook']
    assert len(hooks) == 1
    assert hooks[0].warmup_iters == 'lr'
    assert lr_warmup_iters(built_param_schedulers(cfg), 100) == \
        lr_warmup[0].end == 500


def no_init_options(cfg: Config) -> dict:
    """The --cfg-options that switch pretrained init off (no downloads)."""
    if cfg.model.type == 'dkd_mm.DKDDistiller':
        return {
            'model.student.backbone.init_cfg': None,
            'model.teacher_ckpt': None
        }
    return {'model.backbone.init_cfg': None}


def build(cfg: Config):
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        return MODELS.build(cfg.model)


def pretrained_inits(model: torch.nn.Module) -> List[str]:
    """Modules whose init would load (download) pretrained weights."""
    return [
        name for name, module in model.named_modules()
        if 'Pretrained' in str(getattr(module, 'init_cfg', None))
    ]


CONFIGS = sorted(
    osp.splitext(osp.basename(p))[0]
    for p in glob.glob(osp.join(CONFIG_DIR, '*_1x_nwpu.py')))


def test_every_config_is_listed():
    listed = {
        getattr(f, role)
        for f in FAMILIES.values()
        for role in ('teacher', 'student', 'tsa', 'dkd')
    }
    assert listed == set(CONFIGS)


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_without_pretrained_init(config):
    cfg = load(config)
    cfg.merge_from_dict(no_init_options(cfg))
    torch.manual_seed(0)
    model = build(cfg)
    if isinstance(model, DKDDistiller):
        # The teacher's weights come from teacher_ckpt, never its init.
        assert model.teacher._is_init
        detectors = [model.student, model.teacher]
        student = model.student
        assert model.teacher.backbone.depth == 50
        assert pretrained_inits(model.student) == []
    else:
        detectors, student = [model], model
        assert pretrained_inits(model) == []
    for detector in detectors:
        head = detector.roi_head.bbox_head if hasattr(
            detector, 'roi_head') else detector.bbox_head
        assert head.num_classes == 10
    depth = 50 if '_r50_' in config else 18
    assert student.backbone.depth == depth


@pytest.fixture(scope='module')
def nwpu_sample(tmp_path_factory) -> str:
    """An NWPU-format sample at full size with split files: 2 training
    images (2 iterations at batch 1), 1 val and 1 test image."""
    # No spaces (as the release's folder name has): --cfg-options drops them.
    root = str(tmp_path_factory.mktemp('nwpu') / 'nwpu_vhr10')
    run_tool([
        'tools/data/nwpu/make_sample.py', root, '--num-pos', '4', '--num-neg',
        '1', '--img-size', '800', '--seed', '0', '--no-progress'
    ])
    run_tool([
        'tools/data/nwpu/make_split.py', root, '--ratios', '0.5', '0.25',
        '0.25', '--seed', '0'
    ])
    with open(osp.join(root, 'splits', 'train.txt')) as f:
        assert len(f.read().split()) == 2
    return root


def save_teacher(config: str, path: str) -> str:
    """A detector checkpoint (``state_dict``, ``meta``) of the teacher."""
    cfg = load(config)
    cfg.merge_from_dict(no_init_options(cfg))
    torch.manual_seed(0)
    torch.save({'state_dict': build(cfg).state_dict(), 'meta': {}}, path)
    return path


def last_train_line(log: str) -> Optional[str]:
    lines = re.findall(r'Epoch\(train\)\s+\[1\]\[2/2\].*', log)
    return lines[-1] if lines else None


@pytest.mark.slow
@pytest.mark.parametrize('name', list(FAMILIES))
def test_dkd_trains_two_iterations(name, nwpu_sample, tmp_path):
    family = FAMILIES[name]
    ckpt = save_teacher(family.teacher, str(tmp_path / 'teacher.pth'))
    work_dir = str(tmp_path / 'run')
    try:
        log = run_tool([
            'tools/train.py',
            osp.join('configs', 'nwpu', family.dkd + '.py'),
            '--work-dir',
            work_dir,
            '--cfg-options',
            f'model.teacher_ckpt={ckpt}',
            'model.student.backbone.init_cfg=None',
            'train_cfg.max_epochs=1',
            # No validation: tests/test_tools/test_nwpu_train.py runs VOC mAP.
            'train_cfg.val_interval=2',
            'train_dataloader.batch_size=1',
            'default_hooks.logger.interval=1'
        ] + [
            f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
            for key in (f'dataset.data_root={nwpu_sample}/', 'num_workers=0',
                        'persistent_workers=False')
        ])
    finally:
        os.remove(ckpt)
    line = last_train_line(log)
    assert line is not None, log[-3000:]
    values = dict(re.findall(r'(loss\w*): (\S+)', line))
    for key in ('loss_global_distill_fg', 'loss_isd_feat', 'loss_bbox',
                'loss'):
        assert key in values, line
    assert all(math.isfinite(float(v)) for v in values.values()), line
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
