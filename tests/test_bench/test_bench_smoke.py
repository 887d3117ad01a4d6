"""Smoke tests of bench/ so that the benchmark scripts cannot rot."""
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from bench.cost import mask_benchmark  # noqa: E402
from bench.run import METHODS, format_table  # noqa: E402


def test_vectorised_masks_equal_per_box_reference():
    result = mask_benchmark(num_boxes=40, size=512)
    assert result['mismatched_cells'] == 0
    assert result['cells'] == 64 * 64 + 32 * 32 + 16 * 16 + 8 * 8 + 4 * 4


def test_table_reports_spread_and_gap_closed():
    row = dict(mAP50=0.2, mAP75=0.1, mAP=0.15, ship=0.1, **{
        'small-vehicle': 0.05})
    results = {
        'teacher': [dict(row, mAP50=0.6)],
        'student': [dict(row, mAP50=0.2), dict(row, mAP50=0.4)],
        'dkd (GD+ISD+TSA)': [dict(row, mAP50=0.5)],
    }
    table = format_table(results)
    # student mean 0.3 +- 0.1; DKD closes (0.5 - 0.3) / (0.6 - 0.3) = 67%.
    assert '0.300 ± 0.100' in table
    assert '+67%' in table


def test_every_method_config_exists():
    for config in METHODS.values():
        assert osp.isfile(osp.join(ROOT, config)), config
