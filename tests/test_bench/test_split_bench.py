"""bench/split.py on small scenes: the rows, the skipped upstream row, and
the comparison of two split folders."""
import os
import os.path as osp
import shutil
import textwrap

import cv2
import numpy as np
import pytest

from bench.split import SAME, TOOL, UPSTREAM, compare_splits, main, read_labels
from dkd_mm_data.dota_split import sliding_windows

SMALL = ['--scene-sizes', '512x512', '--window', '256', '--gap', '64']


@pytest.fixture(scope='module')
def work_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp('bench_split'))


@pytest.fixture(scope='module')
def alone(work_dir) -> str:
    """The report of a run without mmrotate; leaves dkd_mm's split in
    ``work_dir/out0``."""
    return main(['--work-dir', work_dir, '--num-images', '2', '--runs', '1'] +
                SMALL)


def _row(report: str, tool: str) -> list:
    line = [r for r in report.splitlines() if r.startswith(f'| {tool}')][0]
    return [c.strip() for c in line.strip('|').split('|')]


def test_without_mmrotate_the_upstream_row_is_skipped(alone):
    report = alone
    assert 'mmrotate row skipped' in report
    assert not [r for r in report.splitlines() if r.startswith('| mmrotate')]
    assert 'against mmrotate' not in report
    row = _row(report, 'dkd_mm')
    assert int(row[4]) == 2 * len(sliding_windows(512, 512, [(256, 64)]))
    # the median of one run is that run; no ratio without mmrotate
    assert row[1] == row[2] and float(row[3]) > 0 and row[6] == '-'
    # stored PNG patches (the default) take more room than compressed ones
    compressed = _row(report, 'dkd_mm `tools/data/dota/split.py --compress')
    assert compressed[4] == row[4] and float(compressed[7]) < float(row[7])


def test_with_a_stand_in_upstream_the_outputs_are_compared(work_dir, tmp_path):
    # A stand-in for mmrotate's script: dkd_mm's tool under its path (the
    # two take the same flags), so both rows and the comparison run.
    fake = tmp_path / 'mmrotate'
    (fake / osp.dirname(UPSTREAM)).mkdir(parents=True)
    (fake / UPSTREAM).write_text(
        textwrap.dedent(f"""\
        import runpy
        runpy.run_path({TOOL!r}, run_name='__main__')
        """))
    report = main([
        '--work-dir', work_dir, '--num-images', '2', '--runs', '1',
        '--mmrotate-dir',
        str(fake)
    ] + SMALL)
    assert 'skipped' not in report
    ours, ref = _row(report, 'dkd_mm'), _row(report, 'mmrotate')
    assert ours[4] == ref[4]  # patches
    assert ref[6] == '1.00x'
    # the ratio of the medians (printed rounded to 0.01 s: 5% slack)
    assert float(ours[6][:-1]) == pytest.approx(
        float(ref[1]) / float(ours[1]), rel=0.05)
    # Both dkd_mm rows compared with the stand-in, same outputs.
    assert report.count('against mmrotate') == 2
    assert report.count(f'{ours[4]} pixel-equal') == 2
    assert report.count('difficulty, 0 wholly inside') == 2
    assert report.count(SAME) == 2


def _float32_labels(path: str, truncate: int) -> None:
    """Rewrite a label file as mmrotate writes it (``str(float32)``), the
    ``truncate``-th object marked difficulty 2."""
    rows = read_labels(path)
    with open(path, 'w') as f:
        for k, (coords, cls, diff) in enumerate(rows):
            text = ' '.join(str(np.float32(v)) for v in coords)
            f.write(f'{text} {cls} {2 if k == truncate else diff}\n')


def test_compare_splits_counts_each_difference(alone, work_dir, tmp_path):
    ours = str(tmp_path / 'ours')
    shutil.copytree(osp.join(work_dir, 'out0'), ours)
    ref = str(tmp_path / 'ref')
    shutil.copytree(ours, ref)
    assert compare_splits(ours, ref)['ok'] == 1
    # An object wholly inside its patch turned to difficulty 2, as
    # mmrotate's float32 iof does: counted apart, still the same outputs.
    names = sorted(os.listdir(osp.join(ref, 'annfiles')))
    label = next(
        osp.join(ref, 'annfiles', n) for n in names if any(
            min(c) >= 0 and max(c) <= 256 and d != 2
            for c, _, d in read_labels(osp.join(ref, 'annfiles', n))))
    inside = [
        k for k, (c, _, d) in enumerate(read_labels(label))
        if min(c) >= 0 and max(c) <= 256 and d != 2
    ][0]
    _float32_labels(label, inside)
    result = compare_splits(ours, ref)
    assert result['difficulty_float32'] == 1 and result['ok'] == 1
    assert result['boxes_equal'] == result['patches'] == len(names)
    # One pixel changed, one class renamed, another patch missing: each
    # found.
    others = [n[:-4] for n in names if n != osp.basename(label)]
    img = osp.join(ref, 'images', others[0] + '.png')
    pixels = cv2.imread(img)
    pixels[5, 5] = 255 - pixels[5, 5]
    cv2.imwrite(img, pixels)
    cls = read_labels(label)[0][1]
    with open(label) as f:
        text = f.read()
    with open(label, 'w') as f:
        f.write(text.replace(cls, 'helicopter', 1))
    os.remove(osp.join(ref, 'images', others[-1] + '.png'))
    result = compare_splits(ours, ref)
    assert result['ok'] == 0 and result['only_ours'] == 1
    assert result['pixel_equal'] == result['patches'] - 1
    assert result['boxes_equal'] == result['patches'] - 1
