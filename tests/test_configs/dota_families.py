"""The DOTA configs' families, and the drift check of a config against the
upstream config it inherits."""
import os.path as osp
import shutil
from dataclasses import dataclass
from typing import Any, List, Sequence, Tuple

import yaml
from mmengine.config import Config, ConfigDict
from mmengine.utils import get_installed_path

from tests.test_tools.conftest import ROOT

CONFIGS = osp.join(ROOT, 'configs')
UPSTREAM = osp.join(get_installed_path('mmrotate'), '.mim', 'configs')
MISSING = '<missing>'

# What the students change in upstream's model, and nothing else.
R18 = ('backbone.depth', 'backbone.init_cfg.checkpoint', 'neck.in_channels')
MV2 = ('backbone', 'neck.in_channels', 'neck.start_level')
LITE = R18 + ('neck.out_channels', 'bbox_head.in_channels',
              'bbox_head.feat_channels')


@dataclass(frozen=True)
class Family:
    """A detector family of configs/dota/ and its mmrotate config."""
    upstream: str  # under mmrotate's configs/: the teacher, the student's base
    student: str  # the files under configs/dota/
    tsa: str
    dkd: str
    tsa_keys: Tuple[str, ...]  # what TSA changes; the box loss last
    losses: Tuple[str, ...]  # the student's own loss keys


SINGLE = ('loss_cls', 'loss_bbox')
FAMILIES = {
    'rotated_retinanet':
    Family('rotated_retinanet/rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py',
           'rotated-retinanet-le90_r18_fpn_1x_dota.py',
           'rotated-retinanet-le90_r18_fpn_tsa_1x_dota.py',
           'dkd_rotated-retinanet-le90_r50-r18_fpn_1x_dota.py',
           ('bbox_head.reg_decoded_bbox', 'bbox_head.loss_bbox'), SINGLE),
    'rotated_faster_rcnn':
    Family('rotated_faster_rcnn/rotated-faster-rcnn-le90_r50_fpn_1x_dota.py',
           'rotated-faster-rcnn-le90_r18_fpn_1x_dota.py',
           'rotated-faster-rcnn-le90_r18_fpn_tsa_1x_dota.py',
           'dkd_rotated-faster-rcnn-le90_r50-r18_fpn_1x_dota.py',
           ('roi_head.bbox_head.reg_decoded_bbox',
            'roi_head.bbox_head.loss_bbox'),
           ('loss_rpn_cls', 'loss_rpn_bbox') + SINGLE),
    'oriented_rcnn':
    Family('oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py',
           'oriented-rcnn-le90_r18_fpn_1x_dota.py',
           'oriented-rcnn-le90_r18_fpn_tsa_1x_dota.py',
           'dkd_oriented-rcnn-le90_r50-r18_fpn_1x_dota.py',
           ('roi_head.bbox_head.reg_decoded_bbox',
            'roi_head.bbox_head.loss_bbox'),
           ('loss_rpn_cls', 'loss_rpn_bbox') + SINGLE),
    'rotated_fcos':
    Family('rotated_fcos/rotated-fcos-le90_r50_fpn_1x_dota.py',
           'rotated-fcos-le90_r18_fpn_1x_dota.py',
           'rotated-fcos-le90_r18_fpn_tsa_1x_dota.py',
           'dkd_rotated-fcos-le90_r50-r18_fpn_1x_dota.py',
           ('bbox_head.loss_bbox', ), SINGLE + ('loss_centerness', )),
}
MV2_DKD = 'dkd_rotated-retinanet-le90_r50-mv2_fpn_1x_dota.py'
DKD_CONFIGS = {f.dkd: f for f in FAMILIES.values()}
DKD_CONFIGS[MV2_DKD] = FAMILIES['rotated_retinanet']
# config -> (family, the student's listed keys beyond TSA's)
STUDENTS = {
    name: (family, R18)
    for family in FAMILIES.values()
    for name in (family.student, family.tsa, family.dkd)
}
STUDENTS[MV2_DKD] = (FAMILIES['rotated_retinanet'], MV2)
# The lite ResNet-18 student (128-channel neck and head), plain and in DKD.
LITE_STUDENT = 'rotated-retinanet-le90_r18-lite_fpn_1x_dota.py'
LITE_DKD = 'dkd_rotated-retinanet-le90_r50-r18-lite_fpn_1x_dota.py'
DKD_CONFIGS[LITE_DKD] = FAMILIES['rotated_retinanet']
STUDENTS[LITE_STUDENT] = STUDENTS[LITE_DKD] = (FAMILIES['rotated_retinanet'],
                                               LITE)
# Students with upstream's box loss (the others wrap it in TSA).
PLAIN_STUDENTS = {f.student for f in FAMILIES.values()} | {LITE_STUDENT}


@dataclass(frozen=True)
class UpstreamPair:
    """A DKD config of configs/dota/ whose teacher and student are both
    mmrotate's configs, in one file."""
    teacher: str  # under mmrotate's configs/, unchanged
    student: str  # likewise, the student's recipe but for tsa_keys
    dkd: str  # the file under configs/dota/
    tsa_keys: Tuple[str, ...]  # what TSA changes; the box loss last
    losses: Tuple[str, ...]  # the student's own loss keys


# RTMDet-R l -> tiny: CSPNeXtPAFPN necks, three levels and no `num_outs`.
RTMDET = UpstreamPair('rotated_rtmdet/rotated_rtmdet_l-3x-dota.py',
                      'rotated_rtmdet/rotated_rtmdet_tiny-3x-dota.py',
                      'dkd_rotated-rtmdet_l-tiny_3x_dota.py',
                      ('bbox_head.loss_bbox', ), SINGLE)
# Every DKD config of configs/dota/ -> the student's own loss keys.
DKD_LOSSES = {name: family.losses for name, family in DKD_CONFIGS.items()}
DKD_LOSSES[RTMDET.dkd] = RTMDET.losses
DISTILL_KEYS = ('loss_global_distill_fg', 'loss_global_distill_bg',
                'loss_global_distill_relation', 'loss_isd_feat',
                'isd_candidates', 'distill_scale')


def zoo_weights(upstream: str) -> str:
    """The model-zoo checkpoint of an mmrotate config, by its metafile."""
    path = osp.join(UPSTREAM, upstream)
    with open(osp.join(osp.dirname(path), 'metafile.yml')) as f:
        zoo = {m['Config']: m['Weights'] for m in yaml.safe_load(f)['Models']}
    return zoo['configs/' + upstream]


def dota_config(name: str, root: str = CONFIGS) -> Config:
    return Config.fromfile(osp.join(root, 'dota', name))


def get_key(cfg: dict, key: str) -> Any:
    for part in key.split('.'):
        cfg = cfg[part]
    return cfg


def config_diff(ours: dict, theirs: dict, prefix: str = '') -> dict:
    """Dotted leaf keys whose values differ, ``{key: (ours, theirs)}``; a key
    one side lacks is ``MISSING`` there."""
    diff = {}
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key, MISSING), theirs.get(key, MISSING)
        if isinstance(a, dict) and isinstance(b, dict):
            diff.update(config_diff(a, b, f'{prefix}{key}.'))
        elif a != b:
            diff[prefix + key] = (a, b)
    return diff


def drift(ours: dict, theirs: dict,
          listed: Sequence[str]) -> Tuple[dict, List[str]]:
    """Differences outside the ``listed`` keys (and their sub-keys), and
    listed keys where nothing differs."""
    diff = config_diff(ours, theirs)

    def under(path: str, key: str) -> bool:
        return path == key or path.startswith(key + '.')

    unexpected = {
        path: values
        for path, values in diff.items()
        if not any(under(path, key) for key in listed)
    }
    unused = [k for k in listed if not any(under(p, k) for p in diff)]
    return unexpected, unused


def unscoped(value: Any) -> Any:
    """``value`` without the ``_scope_`` 'mmrotate' that mmengine gives a
    dict (or each dict of a list) inherited through an ``mmrotate::`` path:
    upstream's own file builds it in that scope by its ``default_scope``, so
    the marker is no change."""
    if isinstance(value, list):
        return [unscoped(v) for v in value]
    if not isinstance(value, dict):
        return value
    value = dict(value)
    assert value.pop('_scope_', 'mmrotate') == 'mmrotate'
    return ConfigDict(value)


def unscoped_tree(value: Any) -> Any:
    """``value`` as plain dicts and lists, without the ``_scope_`` markers
    that mmengine gives every dict inherited through an ``mmrotate::``
    path (see :func:`unscoped`)."""
    if isinstance(value, (list, tuple)):
        return type(value)(unscoped_tree(v) for v in value)
    if isinstance(value, dict):
        return {
            k: unscoped_tree(v)
            for k, v in value.items() if k != '_scope_'
        }
    return value


def student_of(cfg: Config) -> ConfigDict:
    """The student's model config of a student or DKD config."""
    return unscoped(cfg.model.student if 'student' in cfg.model else cfg.model)


def edited_configs(root: str, name: str, old: str, new: str) -> str:
    """A copy of configs/ under ``root`` with ``old`` replaced by ``new``
    (once) in ``dota/<name>``, as a user edits the file."""
    out = osp.join(root, 'configs')
    shutil.copytree(CONFIGS, out)
    path = osp.join(out, 'dota', name)
    with open(path) as f:
        text = f.read()
    assert text.count(old) == 1, (name, old)
    with open(path, 'w') as f:
        f.write(text.replace(old, new))
    return out
