"""Smoke tests of bench/ so that the benchmark scripts cannot rot."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from mmengine.config import Config

import dkd_mm  # noqa: F401  (the allow-list for the runs' checkpoints)
from bench import runs, scaling
from bench.cost_common import parse_cfg_options
from bench.cost_masks import mask_benchmark
from bench.data import NWPU, SYNTHETIC_DOTA
from bench.methods import FAMILIES, METHODS, pair_options
from bench.per_class_ap import per_class_ap
from bench.report import format_table, write_section
from bench.rows import run_dir, seconds_per_iter
from bench.runs import ROOT, TEACHER
from dkd_mm.hooks.teacher_hook import lr_warmup_iters
from dkd_mm.testing._utils import built_param_schedulers
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


def _logged(ckpt: dict, key: str) -> np.ndarray:
    """Every iteration's value of ``train/<key>`` in the message hub a run
    checkpoint holds (mmengine's RuntimeInfoHook and IterTimerHook)."""
    return ckpt['message_hub']['log_scalars'][f'train/{key}'].data[0]


def _check_row(row: dict, run: str, config: str, iters: int) -> dict:
    """The table row of a run is what bench/run.py's evaluation makes of
    the run's own files, and the run trained; returns its checkpoint."""
    # Metrics: per_class_ap of the run's test and val predictions.
    expected = per_class_ap(
        osp.join(ROOT, config), osp.join(run, 'preds_test.pkl'))
    expected['val_mAP50'] = per_class_ap(
        osp.join(ROOT, config), osp.join(run, 'preds_val.pkl'))['mAP50']
    for key, value in expected.items():
        assert row[key] == pytest.approx(value, abs=1e-12), (run, key)
    assert row['seed'] == 0
    (path, ) = glob.glob(osp.join(run, 'final_*.pth'))
    ckpt = torch.load(path, map_location='cpu')
    assert ckpt['meta']['iter'] == iters
    # Trained: every parameter the optimizer holds state of took ``iters``
    # AdamW steps (weight decay alone moves it), from gradients that
    # reached the model (non-zero second moments).
    state = list(ckpt['optimizer']['state'].values())
    assert state and all(int(s['step']) == iters for s in state)
    assert sum(float(s['exp_avg_sq'].sum()) for s in state) > 0
    # The optimised loss of each iteration is the sum of the logged terms
    # (those the distillation adds included).
    scalars = ckpt['message_hub']['log_scalars']
    terms = [
        k for k in scalars
        if k.startswith('train/') and 'loss' in k[6:] and k != 'train/loss'
    ]
    np.testing.assert_allclose(
        _logged(ckpt, 'loss'),
        sum(scalars[k].data[0] for k in terms),
        rtol=1e-4)
    # The step time: the mean of the logged window means of the iteration
    # times, so within their range.
    times = _logged(ckpt, 'time')
    assert len(times) == iters
    assert row['s_per_iter'] == seconds_per_iter(run)
    if row['s_per_iter'] is not None:
        assert times.min() - 1e-9 <= row['s_per_iter'] <= times.max() + 1e-9
    return ckpt


def _check_distilled(ckpt: dict, run: str, config: str, iters: int, keys,
                     positive) -> None:
    """A dkd_mm distiller's run: its distillation terms were optimised at
    the teacher hook's warm-up scale, ``positive`` ones above 0."""
    for key in keys:
        assert len(_logged(ckpt, key)) == iters, key
    for key in positive:
        assert (_logged(ckpt, key) > 0).all(), key
    # The config the run dumped (with the table's options) sets the
    # warm-up; the scale of iteration i is (i + 1) / warmup_iters.
    dumped = Config.fromfile(osp.join(run, osp.basename(config)))
    (warmup, ) = [
        h.warmup_iters for h in dumped.custom_hooks
        if h.type.endswith('DKDTeacherHook')
    ]
    if warmup == 'lr':  # the learning rate's, read from the schedule
        warmup = lr_warmup_iters(built_param_schedulers(dumped), 1)
    np.testing.assert_allclose(
        _logged(ckpt, 'distill_scale'),
        [min(1., (i + 1) / warmup) for i in range(iters)])


GD_KEYS = tuple(f'loss_global_distill_{k}' for k in ('fg', 'bg', 'relation'))
# GD's background and relation terms are > 0 for any pair of distinct maps;
# ISD's may be 0 (nothing selected from a teacher of 4 iterations).
DKD_KEYS = GD_KEYS + ('loss_isd_feat', 'loss_isd_relation')
DKD_POSITIVE = GD_KEYS[1:]


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
    bench_dir = work_dir + '_quick'
    with open(osp.join(bench_dir, 'results.json')) as f:
        results = json.load(f)
    assert list(results) == ['teacher'] + methods
    # --quick: the teacher 4 iterations, the students 2.
    ckpts = {}
    for name, rows in results.items():
        (row, ) = rows
        config = TEACHER if name == 'teacher' else METHODS[name]
        assert {'ship', 'small-vehicle', 'mAP75', 'val_mAP50'} <= set(row)
        ckpts[name] = _check_row(row, run_dir(bench_dir, name, 0), config,
                                 4 if name == 'teacher' else 2)
    # The printed table is the report's table of these rows.
    assert format_table(results, SYNTHETIC_DOTA.columns) in out
    # The distilled rows optimised their distillation terms.
    _check_distilled(ckpts['dkd (GD+ISD+TSA)'],
                     run_dir(bench_dir, 'dkd (GD+ISD+TSA)', 0),
                     METHODS['dkd (GD+ISD+TSA)'], 2, DKD_KEYS, DKD_POSITIVE)
    _check_distilled(ckpts['cwd (scaled)'],
                     run_dir(bench_dir, 'cwd (scaled)', 0),
                     METHODS['cwd (scaled)'], 2, ['loss_cwd'], ['loss_cwd'])
    pkd_keys = [f'distill.loss_pkd_fpn{i}' for i in range(5)]
    for key in pkd_keys:
        assert (_logged(ckpts['mmrazor PKD'], key) > 0).all(), key
    # The scaled row trained with the weights bench/scaling.py's rule gives
    # for the calibrations measured (DKD's share, cwd's own terms).
    calibrations = []
    for path in glob.glob(osp.join(bench_dir, 'calibrate_*.json')):
        with open(path) as f:
            calibrations.append(json.load(f))
    (reference, ) = [
        c for c in calibrations if set(c['terms']) >= set(GD_KEYS)
    ]
    (measured, ) = [c for c in calibrations if set(c['terms']) == {'loss_cwd'}]
    options = scaling.scaled_options(measured, reference)
    assert 'cwd (scaled): ' + ' '.join(options) in out
    (weight, ) = [float(o.split('=')[1]) for o in options]
    # The config the run trained with, as its checkpoint keeps it (the
    # run dir's dumped config is tools/test.py's, of the student alone).
    term_weights = Config.fromstring(ckpts['cwd (scaled)']['meta']['cfg'],
                                     '.py').model.term_weights
    assert dict(term_weights) == {'loss_cwd': pytest.approx(weight)}


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
    bench_dir = work_dir + '_quick_retinanet-nwpu'
    with open(osp.join(bench_dir, 'results.json')) as f:
        results = json.load(f)
    assert list(results) == ['teacher', 'dkd (GD+ISD+TSA)']
    family = FAMILIES['retinanet-nwpu']
    ckpts = {}
    for name, rows in results.items():
        (row, ) = rows
        assert {'ship', 'vehicle', 'mAP75'} <= set(row)
        assert 'small-vehicle' not in row
        config = family['teacher' if name == 'teacher' else 'dkd']
        ckpts[name] = _check_row(row, run_dir(bench_dir, name, 0), config,
                                 4 if name == 'teacher' else 2)
    assert format_table(results, NWPU.columns) in out
    assert '| AP50 ship (long thin) | AP50 vehicle (small) |' in out
    _check_distilled(ckpts['dkd (GD+ISD+TSA)'],
                     run_dir(bench_dir, 'dkd (GD+ISD+TSA)', 0), family['dkd'],
                     2, DKD_KEYS, DKD_POSITIVE)


@pytest.mark.slow
def test_cost_step_of_dkd_and_mmrazor_in_subprocesses(tmp_path):
    data = str(tmp_path / 'data')
    run_tool([
        'tools/data/make_synthetic_dota.py', '--out-dir', data, '--split',
        'tiny', '--no-progress'
    ])

    def last_json(out: str) -> dict:
        # The JSON line a subprocess prints last on stdout (run_tool
        # returns stdout then stderr).
        return json.loads(
            [line for line in out.splitlines() if line.startswith('{')][-1])

    def measure(name: str, mode: str):
        start = time.perf_counter()
        out = run_tool([
            '-m', 'bench.cost', '--one', name, mode, '--steps', '1',
            '--data-root', data
        ])
        return last_json(out), time.perf_counter() - start

    forward, wall = measure('teacher', 'forward')
    assert set(forward) == {'seconds', 'peak_mb'}
    assert 0 < forward['seconds'] < wall
    # The same imports as bench/cost.py, then the model of the row built
    # as measure_step builds it: the resident set before any model (its
    # current VmRSS: a child's ru_maxrss starts at its parent's resident
    # set, which Linux keeps across fork and exec), and the parameters'
    # bytes (teacher and student).
    sizes_code = (
        'import json, sys; from bench.cost_step import build; '
        'from bench.methods import METHODS, pair_options; '
        'imports_mb = [int(line.split()[1]) for line in '
        'open("/proc/self/status") if line.startswith("VmRSS:")][0] / 1024; '
        'name, data = sys.argv[1:]; '
        'model, _ = build(METHODS[name], None, pair_options(name), data); '
        'params_mb = sum(p.numel() * p.element_size() '
        'for p in model.parameters()) / 2**20; '
        'print(json.dumps(dict(imports_mb=imports_mb, params_mb=params_mb)))')
    for name in ('dkd (GD+ISD+TSA)', 'mmrazor PKD'):
        result, wall = measure(name, 'train')
        assert set(result) == {'seconds', 'peak_mb'}
        # The timed step is one of the subprocess's three (two warm-up,
        # whose times vary with the machine's load), all after its imports
        # and the build: shorter than the whole subprocess.
        assert 0 < result['seconds'] < wall
        # The peak resident set (MB; ru_maxrss is KB on Linux) holds the
        # imports, the models' parameters, gradients and activations.
        sizes = last_json(run_tool(['-c', sizes_code, name, data]))
        assert sizes['params_mb'] > 1
        assert result['peak_mb'] > sizes['imports_mb'] + sizes['params_mb']


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
    # main() runs every row's first seed, ranks the baselines by that
    # seed's val mAP50 (strongest) and gives each row seed_count seeds.
    from bench.methods import seed_count, strongest

    def row(val, test):
        return [dict(val_mAP50=val, mAP50=test)]

    results = {
        'teacher': row(0.9, 0.9),
        'student': row(0.5, 0.5),
        'dkd (GD+ISD+TSA)': row(0.8, 0.8),  # best, but not a baseline
        'fgd': row(0.3, 0.1),
        'pkd (scaled)': row(0.35, 0.05),
        'cwd': row(0.2, 0.6),  # best on test: plays no part
        'mmrazor PKD': row(0.25, 0.3),
        'fitnet': [],  # not trained (--cached-only): not ranked
    }
    strong = strongest(results)
    assert strong == ['pkd (scaled)', 'fgd']
    counts = {
        'student': 3,
        'dkd (GD+ISD+TSA)': 3,
        'dkd (GD)': 2,
        'dkd (GD+ISD)': 2,
        'student (TSA)': 2,
        'pkd (scaled)': 3,
        'fgd': 3,
        'cwd': 1,
        'fgd (scaled)': 1,
        'mmrazor PKD': 1,
        'fitnet': 1,
    }
    assert {n: seed_count(n, strong, 3) for n in counts} == counts
    # Never more seeds than given.
    assert {seed_count(n, strong, 1) for n in counts} == {1}
    assert seed_count('student', strong, 2) == seed_count('fgd', strong,
                                                          2) == 2
    assert set(counts) <= set(METHODS)


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
    from bench.rows import train
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
