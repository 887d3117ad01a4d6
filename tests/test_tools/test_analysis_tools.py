"""tools/analysis/{browse_dataset,get_flops,benchmark}.py on the tiny
synthetic data, each as a user runs it (subprocesses)."""
import importlib.util
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch

from .conftest import ROOT, run_tool

DKD = 'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py'
STUDENT = 'configs/rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'
UNITS = dict(K=1e3, M=1e6, G=1e9)


def _data_options(data_root: str) -> list:
    return [
        f'{loader}.{key}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for key in (f'dataset.data_root={data_root}/', 'num_workers=0',
                    'persistent_workers=False')
    ]


@pytest.mark.slow
@pytest.mark.parametrize('stage', ['train', 'val'])
def test_browse_dataset_draws_ground_truth(tiny_data, tmp_path, stage):
    out = str(tmp_path / 'browse')
    log = run_tool([
        'tools/analysis/browse_dataset.py', STUDENT, '--output-dir', out,
        '--show-number', '3', '--stage', stage, '--cfg-options'
    ] + _data_options(tiny_data))
    assert f'Drew 3 images of the {stage} set' in log
    names = sorted(os.listdir(out))
    assert len(names) == 3 and all(n.startswith(stage) for n in names)
    for name in names:
        img = cv2.imread(osp.join(out, name))
        # the pipeline's Resize gives 256 px; the boxes are drawn in colour
        assert img.shape == (256, 256, 3) and img.std() > 0
        if stage == 'val':  # no flip: the drawn boxes are the difference
            source = cv2.imread(osp.join(tiny_data, stage, 'images', name))
            source = cv2.resize(source, (256, 256)).astype(int)
            changed = np.abs(img.astype(int) - source).max(-1) > 60
            assert changed.sum() > 100


@pytest.mark.slow
def test_get_flops_reports_student_and_teacher():
    log = run_tool(
        ['tools/analysis/get_flops.py', DKD, STUDENT, '--shape', '64', '60'])
    assert 'Input shape: (3, 64, 64) (padded from (64, 60))' in log
    rows = re.findall(
        r'\[(\w+)\]: Flops: ([\d.]+)([KMG]) Params: ([\d.]+)([KM])', log)
    found = {
        role: (float(f) * UNITS[fu], float(p) * UNITS[pu])
        for role, f, fu, p, pu in rows
    }
    assert set(found) == {'student', 'teacher', 'model'}
    student, teacher = found['student'], found['teacher']
    assert found['model'] == student  # the DKD student is that config
    assert 0 < student[0] < teacher[0] and 0 < student[1] < teacher[1]


@pytest.mark.slow
def test_benchmark_prints_images_per_second(tiny_data):
    log = run_tool([
        'tools/analysis/benchmark.py', DKD, '--num-images', '2',
        '--num-warmup', '1', '--cfg-options'
    ] + _data_options(tiny_data))
    speeds = dict(
        re.findall(r'(student|teacher): [\d.]+ images/s \((.*)\)', log))
    assert set(speeds) == {'student', 'teacher'}
    assert speeds['student'] == 'random init'  # no checkpoint given
    assert re.search(r'on (cpu|cuda), 2 images after 1 warm-up', log)


def test_images_per_second_times_only_the_measured_images(monkeypatch):
    # A fake clock that only a test_step advances: warm-up images take
    # 10 s each and are not counted; two timed images take 0.25 s and
    # 0.75 s -> 2 images / 1 s = 2 images/s.  The loader (two batches) is
    # cycled.
    spec = importlib.util.spec_from_file_location(
        'benchmark_tool', osp.join(ROOT, 'tools', 'analysis', 'benchmark.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    now = [0.]
    monkeypatch.setattr(tool.time, 'perf_counter', lambda: now[0])
    seen = []

    class Model(torch.nn.Linear):

        def test_step(self, data):
            assert not self.training
            seen.append(data)
            now[0] += {0: 10., 1: 0.25, 2: 0.75}[len(seen) - 1]

    speed = tool.images_per_second(
        Model(1, 1), ['a', 'b'], num_images=2, num_warmup=1)
    assert speed == pytest.approx(2.0)
    assert seen == ['a', 'b', 'a']
