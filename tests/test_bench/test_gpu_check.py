"""bench/gpu_check.py: its skip without a GPU, its parity code on the CPU,
its config switches; the real check where CUDA is present."""
import glob
import math
import os.path as osp
import subprocess

import pytest
import torch
from mmengine.config import Config

from bench import gpu_check, gpu_training
from bench.cost_common import parse_cfg_options
from bench.gpu_parity import EXACT, Case, mismatch, run_case
from bench.gpu_parity_cases import CASES
from bench.gpu_parity_inputs import STRIDES, level_sizes, rotated_boxes
from bench.runs import ROOT
from dkd_mm.functional import feature_strides, foreground_mask

SCRIPT = osp.join(ROOT, 'bench', 'gpu_check.sh')
FCOS = sorted(glob.glob(osp.join(ROOT, gpu_training.FCOS_CONFIGS)))


def run_script(out, timeout: int) -> subprocess.CompletedProcess:
    """bench/gpu_check.sh as a user runs it, its table into ``out``."""
    return subprocess.run(
        ['bash', SCRIPT, '--out', str(out)],
        capture_output=True,
        text=True,
        timeout=timeout)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
def test_script_skips_cleanly_without_cuda(tmp_path):
    out = tmp_path / 'table.md'
    proc = run_script(out, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith('SKIP bench/gpu_check: no CUDA device')
    assert 'nothing was checked' in out.read_text()


def test_parity_cpu_against_cpu_runs_every_case(tmp_path, capsys):
    out = tmp_path / 'table.md'
    status = gpu_check.main(
        ['--device', 'cpu', '--checks', 'parity', '--out',
         str(out)])
    table = out.read_text()
    assert status == 0, table
    assert table.strip() in capsys.readouterr().out
    rows = [line for line in table.splitlines() if line.startswith('| ')][1:]
    assert len(rows) == 1 + len(CASES) + 1  # ops, cases, total
    assert rows[0].startswith('| mmcv ops | ok |')
    for case in CASES:
        assert f'| parity: {case.name} | ok |' in table, case.name
    assert rows[-1].startswith('| total | ok |')


def test_cpu_device_refuses_the_cuda_only_checks():
    with pytest.raises(SystemExit):
        gpu_check.parse_args(['--device', 'cpu', '--checks', 'fcos'])


def _drifting_case(relative: float) -> Case:
    """A case whose second run (the device under test; run_case runs the
    CPU reference first) is off by ``relative``."""
    calls = []

    def run(x):
        calls.append(1)
        return dict(value=x * (1 + relative if len(calls) == 2 else 1.0))

    return Case('drift',
                lambda g: dict(x=torch.rand(50, generator=g).requires_grad_()),
                run)


def test_parity_reports_differences_beyond_tolerance():
    ok, detail = run_case(_drifting_case(1e-3), 'cpu')
    assert not ok
    assert 'out.value' in detail and 'grad in.x' in detail
    ok, detail = run_case(_drifting_case(1e-7), 'cpu')
    assert ok, detail


def test_mismatch_holds_small_tensors_to_their_own_scale():
    ref = torch.tensor([1e-6, 2e-6, -3e-6])
    # 1e-9 is far inside an absolute atol of 1e-5, but 3e-4 of the scale.
    assert mismatch(ref, ref + 1e-9, EXACT)[0]
    assert not mismatch(ref, ref * (1 + 1e-6), EXACT)[0]
    nan_first = torch.tensor([math.nan, 1.0])
    assert mismatch(nan_first, torch.tensor([1.0, math.nan]), EXACT)[0]
    assert not mismatch(nan_first, nan_first.clone(), EXACT)[0]
    flags = torch.tensor([True, False])
    assert mismatch(flags, ~flags, EXACT)[0]


def test_rotated_boxes_leave_no_cell_to_rounding():
    # Far from every edge, float32 and float64 tests agree on every cell.
    boxes = rotated_boxes(torch.Generator().manual_seed(3), 30)
    for size, stride in zip(level_sizes(), STRIDES):
        strides = feature_strides(size, (256, 256))
        single = foreground_mask(boxes, size, strides).double()
        double = foreground_mask(boxes.double(), size, strides)
        assert torch.equal(single > 0, double > 0), stride
        torch.testing.assert_close(single, double, rtol=1e-6, atol=0)


def test_every_rotated_fcos_config_gets_the_cuda_box_loss(tmp_path):
    assert len(FCOS) == 5
    for config in FCOS:
        before = gpu_training.box_loss_types(Config.fromfile(config).model)
        assert all('GDLoss' in t for t in before), (config, before)
        cfg = gpu_training.fcos_run_cfg(config, '/data/', str(tmp_path), 3)
        after = gpu_training.box_loss_types(cfg.model)
        # A distiller's teacher becomes a model dict, switched as well.
        assert len(after) == len(before) + ('teacher' in cfg.model)
        assert all('RotatedIoULoss' in t and 'GDLoss' not in t
                   for t in after), (config, after)
        assert cfg.train_cfg.max_iters == 3
        assert cfg.train_dataloader.dataset.data_root == '/data/'
    dkd = [c for c in FCOS if osp.basename(c).startswith('dkd_')]
    cfg = gpu_training.fcos_run_cfg(dkd[0], '/data/', str(tmp_path), 3)
    assert cfg.model.teacher.bbox_head.loss_bbox == dict(
        type='mmrotate.RotatedIoULoss', loss_weight=1.0)
    assert cfg.model.student.bbox_head.loss_bbox.type == 'dkd_mm.TSALoss'
    assert cfg.model.teacher_ckpt is None


def test_size_options_resize_every_timed_config():
    for _, config, _, _ in gpu_training.TIMED:
        cfg = Config.fromfile(osp.join(ROOT, config))
        assert cfg.train_dataloader.dataset.pipeline[3].scale == (256, 256)
        cfg.merge_from_dict(
            parse_cfg_options(gpu_training.size_options(config, 1024, 2)))
        resize = [
            step for step in cfg.train_dataloader.dataset.pipeline
            if step.type.endswith('Resize')
        ]
        assert [step.scale for step in resize] == [(1024, 1024)]
        assert cfg.train_dataloader.batch_size == 2
        assert cfg.train_dataloader.dataset.img_shape == (1024, 1024)


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_real_check_on_cuda(tmp_path):
    out = tmp_path / 'table.md'
    proc = run_script(out, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert '| total | ok |' in out.read_text()
