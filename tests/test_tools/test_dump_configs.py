"""tools/analysis/dump_configs.py on a small config tree: every config
merged, ``_base_`` skipped, a broken config reported and counted."""
import json
import os
import os.path as osp
import runpy

from .conftest import ROOT


def write(path: str, text: str) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def test_dumps_merged_configs_by_path(tmp_path, capsys):
    tree = str(tmp_path / 'configs')
    write(
        osp.join(tree, '_base_', 'hook.py'), 'hook = dict(warmup_iters=50)\n')
    write(
        osp.join(tree, 'family', 'leaf.py'), "_base_ = ['../_base_/hook.py']\n"
        "teacher = '{{fileDirname}}/teacher.py'\n"
        'hooks = [dict(_base_.hook, warmup_iters=500)]\n')
    write(osp.join(tree, 'family', 'broken.py'), "_base_ = ['./none.py']\n")
    tool = runpy.run_path(
        osp.join(ROOT, 'tools', 'analysis', 'dump_configs.py'))
    out = str(tmp_path / 'dump')
    assert tool['main']([out, '--configs', tree]) == 1  # the broken one
    assert 'FAILED family/broken.py' in capsys.readouterr().err
    assert os.listdir(out) == ['family__leaf.json']
    with open(osp.join(out, 'family__leaf.json')) as f:
        leaf = json.load(f)
    assert leaf['hooks'] == [{'warmup_iters': 500}]
    assert leaf['hook'] == {'warmup_iters': 50}
    assert leaf['teacher'] == osp.join(tree, 'family', 'teacher.py')
