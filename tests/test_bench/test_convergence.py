"""bench/convergence.py: the val curve of a run, and the flatness verdict."""
import json

from bench import convergence, runs


def _write(checkpoint, entries):
    with open(runs.scalars_of(str(checkpoint)), 'w') as f:
        f.write('\n'.join(json.dumps(e) for e in entries) + '\n')


def test_val_curve_reads_the_runs_validations(tmp_path):
    checkpoint = tmp_path / 'final_abc.pth'
    assert convergence.val_curve(str(checkpoint)) == []
    _write(checkpoint, [
        dict(loss=1.0, step=10, lr=1e-3),
        dict({
            'dota/mAP': 0.2,
            'dota/AP50': 0.4
        }, step=100),
        dict(loss=0.5, step=110),
        dict({'pascal_voc/mAP': 0.55}, step=200),
    ])
    assert convergence.val_curve(str(checkpoint)) == [(100, 0.4), (200, 0.55)]


def test_flat_only_within_tolerance_over_the_last_quarter():
    rising = [(100, 0.30), (200, 0.40), (300, 0.45), (350, 0.47), (400, 0.49)]
    # Last quarter of 400: steps 300-400 span 0.04.
    assert not convergence.is_flat(rising, 400)
    flat = rising[:3] + [(350, 0.455), (400, 0.452)]
    assert convergence.is_flat(flat, 400)
    # One evaluation in the last quarter says nothing.
    assert not convergence.is_flat([(100, 0.3), (400, 0.3)], 400)
    assert 'NOT flat' in convergence.describe(rising, 400)
    assert convergence.describe(
        flat, 400).startswith('val mAP50 by iteration 100: 0.300, 200: 0.400')
    assert convergence.describe([], 400) == 'no validation during training'
