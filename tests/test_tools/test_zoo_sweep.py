"""tools/analysis/zoo_sweep.py: its family list, the ResNet-18 swap, and
rows for a family that works and one that fails."""
import importlib.util
import os
import os.path as osp

import pytest
from mmengine.config import ConfigDict
from mmengine.utils import get_installed_path

from .conftest import ROOT


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        'zoo_sweep', osp.join(ROOT, 'tools', 'analysis', 'zoo_sweep.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mmrotate_config_directory_is_swept(tool):
    root = osp.join(get_installed_path('mmrotate'), '.mim', 'configs')
    dirs = {
        d
        for d in os.listdir(root)
        if d != '_base_' and osp.isdir(osp.join(root, d))
    }
    assert dirs == set(tool.MMROTATE)
    for teacher, student in tool.FAMILIES.values():
        for path in (teacher, student or teacher):
            package, rel = path.split('::')
            assert osp.isfile(
                osp.join(get_installed_path(package), '.mim', 'configs',
                         rel)), path


def test_resnet18_swap(tool):
    teacher = tool.model_cfg(tool.FAMILIES['mmdet/detr'][0])
    student, how = tool.resnet18(teacher)
    assert how == 'ResNet-18 swap' and student.backbone.depth == 18
    assert student.neck.in_channels == [512]  # ChannelMapper of C5
    assert teacher.backbone.depth == 50 and teacher.backbone.init_cfg is None
    other = ConfigDict(backbone=dict(type='mmdet.CSPNeXt'), neck=dict())
    assert tool.resnet18(other) == (other, 'teacher\'s own architecture')


def test_rows_and_table(tool, monkeypatch, tmp_path):
    monkeypatch.setitem(tool.FAMILIES, 'fake', ('mmdet::no/such.py', None))
    out = tmp_path / 'zoo.md'
    [works, fails] = tool.main(
        ['--families', 'mmrotate/rotated_rtmdet', 'fake', '--out',
         str(out)])
    assert works['builds'] == 'yes (3 levels)'
    assert works['trains'] == works['predicts'][:3] == 'yes'
    assert 'GD_fg' in works['DKD parts active'] and not works['failure']
    assert fails['builds'] == 'no' and fails['trains'] == ''
    assert fails['failure'].startswith(
        "build: FileNotFoundError: config file not found: 'mmdet::no/such")
    table = tool.markdown([works, fails])
    assert table.splitlines()[0].startswith('| family | teacher | student')
    assert len(table.splitlines()) == 4
    assert float(works['s']) > 0
    text = out.read_text()
    assert text.startswith('# Which model-zoo detectors DKD distils')
    assert '1 of 2 families build, train a step and predict' in text
    assert text.endswith(table) and 'RotatedIoULoss (CUDA only)' in text


# The fast part of the sweep: one family per kind (dense rotated, two-stage
# rotated, a cascade of RoI heads); the PAFPN neck (RTMDet-R) is above.
@pytest.mark.parametrize('family', [
    'mmrotate/rotated_retinanet', 'mmrotate/oriented_rcnn',
    'mmdet/cascade_rcnn'
])
def test_one_family_per_kind_distils(tool, family):
    [row] = tool.main(['--families', family])
    assert row['builds'] == 'yes (5 levels)', row
    assert row['trains'] == 'yes' and row['predicts'].startswith('yes'), row
    assert not row['failure'], row
    parts = row['DKD parts active'].split(', ')
    assert {'GD_fg', 'GD_bg', 'ISD_feat'} <= set(parts), row
