"""Smoke tests of bench/ so that the benchmark scripts cannot rot."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from bench import runs
from bench.cost_common import parse_cfg_options
from bench.cost_masks import mask_benchmark
from bench.data import NWPU
from bench.methods import FAMILIES, METHODS, pair_options
from bench.report import format_table, write_section
from bench.run import seconds_per_iter
from bench.runs import ROOT, TEACHER
from tests.test_tools.conftest import run_tool


def test_vectorised_masks_equal_per_box_reference():
    result = mask_benchmark(num_boxes=40, size=512)
    assert result['mismatched_cells'] == 0
    assert result['cells'] == 64 * 64 + 32 * 32 + 16 * 16 + 8 * 8 + 4 * 4


def test_table_reports_spread_and_gap_closed():
    row = dict(
        mAP50=0.2, mAP75=0.1, mAP=0.15, ship=0.1, **{'small-vehicle': 0.05})
    results = {
        'teacher': [dict(row, mAP50=0.6)],
        'student': [dict(row, mAP50=0.2),
                    dict(row, mAP50=0.4)],
        'dkd (GD+ISD+TSA)': [dict(row, mAP50=0.5)],
    }
    table = format_table(results)
    # student mean 0.3 +- 0.1; DKD closes (0.5 - 0.3) / (0.6 - 0.3) = 67%.
    assert '0.300 ± 0.100' in table
    assert '+67%' in table


def test_every_method_config_exists():
    for config in METHODS.values():
        assert osp.isfile(osp.join(ROOT, config)), config


def test_write_section_replaces_only_its_own_markers(tmp_path):
    path = str(tmp_path / 'bench.md')
    write_section(path, '<!-- a -->', 'first')
    write_section(path, '<!-- b -->', 'other')
    write_section(path, '<!-- a -->', 'second')
    text = open(path).read()
    assert 'first' not in text
    assert text.count('second') == 1 and text.count('other') == 1
    assert text.index('second') < text.index('other')


def test_pair_options_shrink_the_student_of_every_method():
    # The plain student, dkd_mm's distillers and mmrazor's algorithm name
    # the student at different places of their configs.
    assert pair_options('student')[0].startswith('model.backbone.')
    assert f'model.teacher={TEACHER}' in pair_options('fgd')
    assert any(
        o.startswith('model.student.backbone.base_channels=')
        for o in pair_options('dkd (GD+ISD+TSA)'))
    assert pair_options('mmrazor PKD')[0].startswith('model.architecture.')


def test_seconds_per_iter_reads_the_training_log(tmp_path):
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(
        '{"loss": 1.0, "time": 1.0, "iter": 1}\n'
        '{"loss": 1.0, "time": 2.0, "iter": 2}\n'
        '{"dota/mAP": 0.1, "time": 9.0, "step": 2}\n')
    assert seconds_per_iter(str(tmp_path)) == 1.5
    assert seconds_per_iter(str(tmp_path / 'missing')) is None


def test_mmrazor_imports_with_the_shim_only():
    # tools/setup_env.sh installs the bench extra (mmrazor): no skip.
    # A fresh interpreter: torch's module objects as installed.
    code = ('import dkd_mm; '
            'import torch.ao.quantization.fuser_method_mappings as m; '
            'assert not hasattr(m, "reverse2"); '
            'from bench.mmrazor_shim import apply; apply(); '
            'import mmrazor.models; from mmrazor.registry import MODELS; '
            'print(MODELS.get("FpnTeacherDistill").__name__)')
    assert 'FpnTeacherDistill' in run_tool(['-c', code])


@pytest.mark.slow
def test_quick_run_trains_distils_and_tables(tmp_path):
    """bench/run.py --quick end to end with DKD and (where installed)
    mmrazor's PKD: teacher, students, evaluation, table."""
    methods = ['dkd (GD+ISD+TSA)', 'cwd (scaled)', 'mmrazor PKD']
    work_dir = str(tmp_path / 'bench')
    out = run_tool(
        [
            '-m', 'bench.run', '--quick', '--work-dir', work_dir,
            '--data-root',
            str(tmp_path / 'data'), '--methods'
        ] + methods,
        timeout=900)
    with open(osp.join(work_dir + '_quick', 'results.json')) as f:
        results = json.load(f)
    assert list(results) == ['teacher'] + methods
    for name, rows in results.items():
        row = rows[0]
        assert {'ship', 'small-vehicle', 'mAP75', 'val_mAP50'} <= set(row)
        assert row['seed'] == 0
        # The printed table carries the evaluated metrics of each row.
        assert (f'| {name} | 1 | {row["val_mAP50"]:.3f} | '
                f'{row["mAP50"]:.3f} | {row["mAP75"]:.3f} | '
                f'{row["mAP"]:.3f} | {row["ship"]:.3f} | '
                f'{row["small-vehicle"]:.3f} |') in out
    # The scaled row trained with the weights bench/scaling.py measured.
    assert 'cwd (scaled): model.term_weights.loss_cwd=' in out
    scaled_log = os.path.join(work_dir + '_quick', 'cwd_scaled_s0',
                              'train.log')
    assert 'term_weights' in open(scaled_log).read()


@pytest.mark.slow
def test_quick_horizontal_pair_trains_distils_and_tables(tmp_path):
    """bench/run.py --pair retinanet-nwpu --quick with DKD: the NWPU-format
    sample, the options through tools/train.py and tools/test.py, VOC mAP
    from the real predictions, the table with the NWPU columns."""
    work_dir = str(tmp_path / 'bench')
    out = run_tool([
        '-m', 'bench.run', '--pair', 'retinanet-nwpu', '--quick', '--work-dir',
        work_dir, '--data-root',
        str(tmp_path / 'data'), '--methods', 'dkd (GD+ISD+TSA)'
    ],
                   timeout=600)
    with open(osp.join(work_dir + '_quick_retinanet-nwpu',
                       'results.json')) as f:
        results = json.load(f)
    assert list(results) == ['teacher', 'dkd (GD+ISD+TSA)']
    for name, rows in results.items():
        row = rows[0]
        assert {'ship', 'vehicle', 'mAP75'} <= set(row)
        assert 'small-vehicle' not in row
        assert (f'| {name} | 1 | {row["val_mAP50"]:.3f} | '
                f'{row["mAP50"]:.3f} | {row["mAP75"]:.3f} | '
                f'{row["mAP"]:.3f} | {row["ship"]:.3f} | '
                f'{row["vehicle"]:.3f} |') in out
    assert '| AP50 ship (long thin) | AP50 vehicle (small) |' in out


@pytest.mark.slow
def test_cost_step_of_dkd_and_mmrazor_in_subprocesses(tmp_path):
    data = str(tmp_path / 'data')
    run_tool([
        'tools/data/make_synthetic_dota.py', '--out-dir', data, '--split',
        'tiny', '--no-progress'
    ])
    for name in ('dkd (GD+ISD+TSA)', 'mmrazor PKD'):
        out = run_tool([
            '-m', 'bench.cost', '--one', name, 'train', '--steps', '1',
            '--data-root', data
        ])
        # The JSON line the subprocess prints last on stdout (run_tool
        # returns stdout then stderr).
        result = json.loads(
            [line for line in out.splitlines() if line.startswith('{')][-1])
        assert set(result) == {'seconds', 'peak_mb'}
        # A step within the subprocess's own run time; the resident set in
        # MB (ru_maxrss is KB on Linux): torch, mmdet and the two models
        # take several hundred MB, far below 64 GB.
        assert 0 < result['seconds'] < 900
        assert 300 < result['peak_mb'] < 65536


def test_family_pairs_exist_and_refuse_foreign_methods(tmp_path):
    for family in FAMILIES.values():
        for config in family.values():
            assert osp.isfile(osp.join(ROOT, config)), config
    proc = subprocess.run([
        sys.executable, '-m', 'bench.run', '--pair', 'rotated-fcos',
        '--methods', 'fgd', '--work-dir',
        str(tmp_path)
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert "unknown ['fgd'] for --pair rotated-fcos" in proc.stderr
    assert not os.listdir(tmp_path)  # refused before any work


def test_horizontal_pair_refuses_foreign_methods_before_making_data(tmp_path):
    proc = subprocess.run([
        sys.executable, '-m', 'bench.run', '--pair', 'retinanet-nwpu',
        '--methods', 'cwd', '--work-dir',
        str(tmp_path / 'bench'), '--data-root',
        str(tmp_path / 'data')
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert "unknown ['cwd'] for --pair retinanet-nwpu" in proc.stderr
    assert "['student', 'dkd (GD+ISD+TSA)']" in proc.stderr
    assert not os.listdir(tmp_path)  # no sample, no work dir


def test_table_takes_the_pairs_class_columns():
    row = dict(
        mAP50=0.5, mAP75=0.2, mAP=0.35, ship=0.4, vehicle=0.1, val_mAP50=0.45)
    results = {
        'teacher': [dict(row, mAP50=0.7, vehicle=0.3)],
        'student': [row],
        'dkd (GD+ISD+TSA)': [dict(row, mAP50=0.6, s_per_iter=2.5)],
    }
    lines = format_table(results, NWPU.columns).splitlines()
    assert lines[0] == ('| model | seeds | val mAP50 | mAP50 | AP75 | '
                        'mAP (50,75) | '
                        'AP50 ship (long thin) | AP50 vehicle (small) | '
                        'gap closed | s / train iter |')
    assert lines[1] == '|---|---|---|---|---|---|---|---|---|---|'
    assert lines[2] == ('| teacher | 1 | 0.450 | 0.700 | 0.200 | 0.350 | '
                        '0.400 | 0.300 | - | - |')
    # DKD closes (0.6 - 0.5) / (0.7 - 0.5) = 50% of the gap (on test).
    assert lines[4] == ('| dkd (GD+ISD+TSA) | 1 | 0.450 | 0.600 | 0.200 | '
                        '0.350 | 0.400 | 0.100 | +50% | 2.50 |')
    # The rotated table's columns stay the default.
    assert 'AP50 small-vehicle (small)' in format_table(
        {'teacher': [dict(row, **{'small-vehicle': 0.2})]})


def test_seed_counts_follow_the_benchmark_plan():
    from bench.methods import SEED_COUNTS, STRONGEST
    assert set(SEED_COUNTS) <= set(METHODS)
    for name in ('student', 'dkd (GD+ISD+TSA)'):
        assert SEED_COUNTS[name] == 3
    for name in ('dkd (GD)', 'dkd (GD+ISD)', 'student (TSA)'):
        assert SEED_COUNTS[name] == 2
    # Baselines: one seed, three for the STRONGEST on val (chosen when the
    # first seeds are known, tests/test_bench/test_scaling.py).
    assert not {'fgd', 'pkd', 'cwd'} & set(SEED_COUNTS)
    assert STRONGEST == 2


def test_settings_hash_covers_base_files(tmp_path, monkeypatch):
    # A cached run must not be reused after a _base_ file it inherits
    # changed, only the leaf's text being the same.
    base = tmp_path / 'base.py'
    leaf = tmp_path / 'leaf.py'
    base.write_text('lr = 0.005\n')
    leaf.write_text("_base_ = ['./base.py']\nmax_iters = 10\n")
    monkeypatch.setattr(runs, 'ROOT', str(tmp_path))
    first = runs.settings_hash('leaf.py', 400, 0)
    assert runs.settings_hash('leaf.py', 400, 0) == first
    assert runs.settings_hash('leaf.py', 400, 1) != first
    base.write_text('lr = 0.001\n')
    assert runs.settings_hash('leaf.py', 400, 0) != first


def test_deterministic_runs_have_keys_of_their_own(tmp_path, monkeypatch):
    # The demo's deterministic runs and the benchmark's others differ: a
    # cached one must not stand in for the other.  Where the checkpoint of
    # the other kind exists, the run is still "not trained yet".
    monkeypatch.setattr(runs, 'ROOT', str(tmp_path))
    (tmp_path / 'leaf.py').write_text('max_iters = 10\n')
    key = runs.settings_hash('leaf.py', TEACHER, 4, 0, 'data', [])
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / f'final_{key}.pth').write_bytes(b'')
    assert runs.train('leaf.py', 'run', 4, 0, 'data', cached_only=True) == \
        osp.join('run', f'final_{key}.pth')
    assert runs.train(
        'leaf.py', 'run', 4, 0, 'data', deterministic=True,
        cached_only=True) is None


def test_schedule_options_move_every_iteration_setting():
    options = runs.schedule_options(400, 'data/x', 3, deterministic=True)
    assert 'train_cfg.max_iters=400' in options
    # No validation at all: val_begin past the last iteration.
    assert 'train_cfg.val_begin=401' in options
    assert 'param_scheduler.1.milestones=[300,360]' in options
    assert 'randomness.seed=3' in options
    assert 'randomness.deterministic=True' in options
    assert 'test_dataloader.dataset.data_root=data/x/' in options


def test_cfg_options_parse_as_tools_train_parses_them():
    parsed = parse_cfg_options(
        ['model.neck.in_channels=[16,32,64,128]', 'a.b=x', 'c=(1,2)'])
    assert parsed == {
        'model.neck.in_channels': [16, 32, 64, 128],
        'a.b': 'x',
        'c': (1, 2)
    }
    assert parse_cfg_options([]) == {}


def test_cached_only_trains_nothing(tmp_path):
    # --cached-only tables what exists: a run not trained yet is left out
    # (None), and nothing is started for it.
    from bench.run import train
    from bench.runs import STUDENT
    ckpt = train(
        'student',
        STUDENT,
        400,
        0,
        str(tmp_path),
        'data/nowhere', [],
        cached_only=True)
    assert ckpt is None
    assert os.listdir(tmp_path) == []
