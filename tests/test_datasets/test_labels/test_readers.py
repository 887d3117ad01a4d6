"""The one read / parse / check loop and the DOTA label reader on it."""
import re

import numpy as np
import pytest

from dkd_mm_data.labels import (BadLabelError, InputIssue, LabelIssues,
                                parse_nwpu_line, read_dota_labels,
                                read_objects)

LINES = [
    'imagesource:GoogleEarth',
    'gsd:0.146',
    '10 10 30 10 30 30 10 30 plane 0',
    '',
    '10 10 30 10 30 30 10 plane 0',  # line 5: malformed
    '10 10 30 10 3O 30 10 30 plane 0',  # 6: non_numeric
    '10 10 30 10 30 30 10 30 aeroplane 0',  # 7: unknown_class
    '10 10 30 10 30 10 10 10 plane 0',  # 8: degenerate
    '70 70 90 70 90 90 70 90 plane 0',  # 9: outside a 64x64 image
    '-5 -5 20 -5 20 20 -5 20 ship',  # partly outside: kept, difficulty 0
]


@pytest.fixture
def label_file(tmp_path) -> str:
    path = tmp_path / 'P0001.txt'
    path.write_text('\n'.join(LINES) + '\n')
    return str(path)


def test_dota_reader_applies_every_rule(label_file):
    issues = LabelIssues('skip')
    labels = read_dota_labels(label_file, issues, (64, 64), ('plane', 'ship'))
    assert labels.classes == ['plane', 'ship']
    assert labels.difficulties == [0, 0]
    assert labels.polys.dtype == np.float64
    np.testing.assert_array_equal(
        labels.polys,
        [[10, 10, 30, 10, 30, 30, 10, 30], [-5, -5, 20, -5, 20, 20, -5, 20]])
    assert dict(issues.counts) == dict.fromkeys(
        ('malformed', 'non_numeric', 'unknown_class', 'degenerate', 'outside'),
        1)
    lines = sorted(
        int(re.search(r'\.txt:(\d+): ', c).group(1))
        for cases in issues.examples.values() for c in cases)
    assert lines == [5, 6, 7, 8, 9]


def test_dota_reader_without_image_or_class_list(label_file):
    # The splitter knows no classes, the evaluation no image size: the
    # unknown class and the box outside 64x64 are kept.
    issues = LabelIssues('skip')
    labels = read_dota_labels(label_file, issues)
    assert labels.classes == ['plane', 'aeroplane', 'plane', 'ship']
    assert sorted(issues.counts) == ['degenerate', 'malformed', 'non_numeric']


def test_dota_reader_error_mode_and_unreadable_file(label_file, tmp_path):
    with pytest.raises(BadLabelError, match=r'P0001\.txt:5: malformed'):
        read_dota_labels(label_file, LabelIssues('error'))
    binary = tmp_path / 'binary.txt'
    binary.write_bytes(b'\xff\xfe\x00plane')
    issues = LabelIssues('skip')
    assert read_dota_labels(str(binary), issues) is None
    assert dict(issues.counts) == {'unreadable_label': 1}
    empty = tmp_path / 'empty.txt'
    empty.write_text('')
    labels = read_dota_labels(str(empty), issues)
    assert labels.polys.shape == (0, 8) and labels.classes == []


def test_read_objects_takes_any_line_format(tmp_path):
    path = tmp_path / '001.txt'
    path.write_text('(1,2),(30,40),1\n(1,2),(3,x),2\n\n(5,6),(50,60),3\n')
    issues = LabelIssues('skip')

    def no_class_3(obj) -> None:
        if obj.class_id == 3:
            raise InputIssue('unknown_class', 'class id 3')

    objects = read_objects(str(path), parse_nwpu_line, issues, no_class_3)
    assert objects == [([1, 2, 30, 40], 1)]
    assert dict(issues.counts) == {'non_numeric': 1, 'unknown_class': 1}
    everything = [([1, 2, 30, 40], 1), ([5, 6, 50, 60], 3)]
    kept = read_objects(str(path), parse_nwpu_line, LabelIssues())
    assert kept == everything
