"""The 'degenerate' and 'outside' box rules."""
import numpy as np
import pytest

from dkd_mm_data.labels import InputIssue, check_box, polygon_area


def test_polygon_area_and_check_box():
    assert polygon_area(np.array([[0, 0], [4, 0], [4, 3], [0, 3]])) == 12
    check_box([10, 10, 30, 30, 30, 10, 10, 30])  # bowtie order: hull kept
    check_box([-5, -5, 20, -5, 20, 20, -5, 20], (64, 64))  # partly out
    cases = {
        'degenerate': [[5, 5, 5, 5, 9, 9, 9, 9], [0, 0, 1, 1, 2, 2, 3, 3],
                       [0, 0, 10, 0, 10, 0.05, 0, 0.05]],
        'outside': [[70, 0, 90, 0, 90, 9, 70, 9], [-9, 0, 0, 0, 0, 9, -9, 9],
                    [-20, 60, 2, 66, 2, 68, -20, 68]],
    }
    for reason, boxes in cases.items():
        for box in boxes:
            with pytest.raises(InputIssue, match=reason):
                check_box(box, (64, 64))
