"""bench/ledger.py and bench/rows.py's use of it: an evaluated run is
recorded once and tabled from the ledger in a later checkout, only under a
teacher of the same weights."""
import argparse
import json
import os.path as osp

import pytest
import torch

from bench import ledger, rows, runs
from bench.data import SYNTHETIC_DOTA


def _save(path, weights, meta):
    torch.save(dict(meta=meta, state_dict=weights), path)
    return str(path)


def test_weights_digest_reads_the_weights_not_the_file(tmp_path):
    weights = {
        'a.weight': torch.arange(6.).view(2, 3),
        'b.bias': torch.ones(2)
    }
    first = _save(tmp_path / 'a.pth', weights, dict(time='12:00'))
    # The same weights saved again with other metadata (a retraining).
    again = _save(tmp_path / 'b.pth', dict(reversed(weights.items())),
                  dict(time='13:00', seed=0))
    assert ledger.weights_digest(first) == ledger.weights_digest(again)
    moved = dict(weights, **{'b.bias': torch.tensor([1., 1. + 1e-6])})
    changed = _save(tmp_path / 'c.pth', moved, dict(time='12:00'))
    assert ledger.weights_digest(changed) != ledger.weights_digest(first)
    # A plain state_dict (no 'state_dict' key) and an empty tensor load too.
    plain = tmp_path / 'd.pth'
    torch.save(dict(weights, empty=torch.zeros(0)), plain)
    assert len(ledger.weights_digest(str(plain))) == 16


def test_record_then_lookup_under_the_same_teacher_only(tmp_path, capsys):
    metrics = {'mAP50': 0.5, 'val_mAP50': 0.4, 'AP50_ship': 0.25}
    path = ledger.record(
        'k1',
        'dkd (GD+ISD+TSA)',
        2,
        metrics,
        'abc',
        str(tmp_path),
        options=['model.balance.default_share=0.25'])
    entry = json.loads(open(path).read())
    assert entry['name'] == 'dkd (GD+ISD+TSA)' and entry['seed'] == 2
    assert entry['teacher_digest'] == 'abc' and entry['cpu']
    assert 'source' in entry['code']
    assert entry['options'] == ['model.balance.default_share=0.25']
    assert ledger.lookup('k1', 'abc', str(tmp_path)) == metrics
    assert ledger.lookup('k1', 'other', str(tmp_path)) is None
    assert 'not reused' in capsys.readouterr().out
    assert ledger.lookup('k2', 'abc', str(tmp_path)) is None
    assert not osp.exists(path + '.tmp')


@pytest.fixture
def bench_run(tmp_path, monkeypatch):
    """bench/rows.py's row_metrics with training and testing counted, not
    run, and its ledger in tmp_path."""
    calls = []

    def fake_train(name, config, iters, seed, *rest):
        calls.append(('train', name, seed))
        return f'{name}_s{seed}/final.pth'

    def fake_evaluate(config, ckpt, data, data_root, options):
        calls.append(('evaluate', ckpt))
        return {'mAP50': 0.1 * len(calls)}

    monkeypatch.setattr(rows, 'train', fake_train)
    monkeypatch.setattr(rows, 'evaluate', fake_evaluate)
    monkeypatch.setattr(ledger, 'LEDGER', str(tmp_path))
    args = argparse.Namespace(student_iters=4, work_dir='w', cached_only=False)

    def metrics(name, seed, digest, options=('a=1', )):
        return rows.row_metrics(name, runs.STUDENT, seed, args, SYNTHETIC_DOTA,
                                'data/x', list(options), runs.TEACHER, digest)

    return metrics, calls


def test_a_recorded_run_is_not_trained_again(bench_run, tmp_path):
    metrics, calls = bench_run
    first = metrics('student', 0, 'T')
    assert calls == [('train', 'student', 0),
                     ('evaluate', 'student_s0/final.pth')]
    assert len(list(tmp_path.glob('*.json'))) == 1
    # A fresh checkout with the ledger: nothing trained, the same metrics.
    assert metrics('student', 0, 'T') == first and len(calls) == 2
    # Another seed, other options or another teacher: trained.
    metrics('student', 1, 'T')
    metrics('student', 0, 'T', options=('a=2', ))
    metrics('student', 0, 'U')
    assert [c for c in calls if c[0] == 'train'] == [('train', 'student', 0),
                                                     ('train', 'student', 1),
                                                     ('train', 'student', 0),
                                                     ('train', 'student', 0)]


def test_quick_runs_leave_the_ledger_alone(bench_run, tmp_path):
    metrics, calls = bench_run
    metrics('student', 0, None)
    metrics('student', 0, None)
    assert [c[0] for c in calls] == ['train', 'evaluate'] * 2
    assert not list(tmp_path.glob('*.json'))
