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


def test_rows_and_table(tool, monkeypatch):
    monkeypatch.setitem(tool.FAMILIES, 'fake', ('mmdet::no/such.py', None))
    [works,
     fails] = tool.main(['--families', 'mmrotate/rotated_rtmdet', 'fake'])
    assert works['builds'] == 'yes (3 levels)'
    assert works['trains'] == works['predicts'][:3] == 'yes'
    assert 'GD_fg' in works['DKD parts active'] and not works['failure']
    assert fails['builds'] == 'no' and fails['trains'] == ''
    assert fails['failure'].startswith(
        "build: FileNotFoundError: config file not found: 'mmdet::no/such")
    table = tool.markdown([works, fails])
    assert table.splitlines()[0].startswith('| family | teacher | student')
    assert len(table.splitlines()) == 4
