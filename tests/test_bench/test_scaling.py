"""bench/scaling.py's rule and the harness's seed plan (bench/methods.py)."""
import pytest

from bench import runs, scaling
from bench.methods import BASELINES, METHODS, seed_count, strongest
from bench.report import paired_table


def test_scaled_terms_add_up_to_the_references_share():
    # DKD: terms 4.0 + 1.0 against a detection loss of 2.0: share 2.5.
    reference = dict(terms=dict(loss_gd_fg=4.0, loss_gd_bg=1.0), detection=2.0)
    share = scaling.total_share(reference['terms'], reference['detection'])
    assert share == 2.5
    # FGD-like: two terms 30.0 and 0.5 against 1.5: each gets 2.5 / 2 =
    # 1.25 of 1.5, i.e. 1.875: w = 1.875 / 30 and 1.875 / 0.5.
    weights = scaling.scaled_weights(
        dict(loss_fgd_fg=30.0, loss_fgd_global=0.5), 1.5, share)
    assert weights == pytest.approx(
        dict(loss_fgd_fg=0.0625, loss_fgd_global=3.75))
    scaled = 30.0 * weights['loss_fgd_fg'] + 0.5 * weights['loss_fgd_global']
    assert scaled / 1.5 == pytest.approx(share)
    options = scaling.scaled_options(
        dict(terms=dict(loss_fgd_fg=30.0, loss_fgd_global=0.5), detection=1.5),
        reference)
    assert options == [
        'model.term_weights.loss_fgd_fg=0.0625',
        'model.term_weights.loss_fgd_global=3.75'
    ]


def test_terms_that_cannot_be_scaled_are_refused():
    with pytest.raises(ValueError, match='no distillation term'):
        scaling.scaled_weights({}, 1.0, 2.0)
    with pytest.raises(ValueError, match='not > 0'):
        scaling.scaled_weights(dict(loss_a=1.0, loss_b=0.0), 1.0, 2.0)
    with pytest.raises(ValueError, match='detection loss must be > 0'):
        scaling.total_share(dict(loss_a=1.0), 0.0)


def test_every_published_baseline_has_a_scaled_row_after_it():
    names = list(METHODS)
    for base in scaling.SCALABLE:
        scaled = base + scaling.SCALED_SUFFIX
        assert names.index(scaled) == names.index(base) + 1
        assert METHODS[scaled] == METHODS[base]
        assert {base, scaled} <= set(BASELINES)
    assert scaling.REFERENCE in METHODS
    assert 'dkd (GD)' not in BASELINES and 'student' not in BASELINES


def test_the_strongest_baselines_are_chosen_on_val_alone():
    row = dict(mAP50=0.9)  # test: must play no part
    results = {
        'teacher': [dict(row, val_mAP50=0.9)],
        'student': [dict(row, val_mAP50=0.8)],
        'dkd (GD+ISD+TSA)': [dict(row, val_mAP50=0.7)],
        'fgd': [dict(mAP50=0.1, val_mAP50=0.5)],
        'cwd (scaled)': [dict(mAP50=0.0, val_mAP50=0.6)],
        'pkd': [dict(mAP50=0.99, val_mAP50=0.2)],
    }
    assert strongest(results) == ['cwd (scaled)', 'fgd']
    assert seed_count('cwd (scaled)', ['cwd (scaled)', 'fgd'], 3) == 3
    assert seed_count('pkd', ['cwd (scaled)', 'fgd'], 3) == 1
    assert seed_count('student', [], 3) == 3
    assert seed_count('dkd (GD)', [], 3) == 2
    assert seed_count('student', [], 1) == 1


def test_paired_table_compares_seed_by_seed():

    def rows(*values):
        return [dict(seed=s, mAP50=v) for s, v in enumerate(values)]

    results = {
        'teacher': rows(0.9),
        'student': rows(0.40, 0.50, 0.45),
        'cwd': rows(0.55),  # one seed: no row
        'dkd (GD+ISD+TSA)': rows(0.60, 0.55, 0.65),
    }
    lines = paired_table(results).splitlines()
    assert lines[0] == ('| dkd (GD+ISD+TSA) minus | seed 0 | seed 1 | '
                        'seed 2 | mean |')
    # 0.60 - 0.40, 0.55 - 0.50, 0.65 - 0.45; mean 0.15.
    assert lines[2] == '| student | +0.200 | +0.050 | +0.200 | +0.150 |'
    assert len(lines) == 3
    assert paired_table({'teacher': rows(0.9), 'student': rows(0.4)}) is None


def test_the_run_key_covers_the_package_source(tmp_path, monkeypatch):
    (tmp_path / 'dkd_mm' / 'losses').mkdir(parents=True)
    source = tmp_path / 'dkd_mm' / 'losses' / 'a.py'
    source.write_text('weight = 1\n')
    monkeypatch.setattr(runs, 'ROOT', str(tmp_path))
    runs.source_hash.cache_clear()
    first = runs.settings_hash('x', 1)
    runs.source_hash.cache_clear()
    assert runs.settings_hash('x', 1) == first
    source.write_text('weight = 2\n')
    runs.source_hash.cache_clear()
    assert runs.settings_hash('x', 1) != first
    runs.source_hash.cache_clear()  # the real tree's for the next tests
