"""Tests build mmrotate detectors from the repo's configs, whose default
scope is mmrotate's (as in every run of tools/train.py); many train on the
tiny synthetic split."""
import pytest
from mmengine.registry import DefaultScope

import dkd_mm  # noqa: F401  (compat shims before mmrotate)
from dkd_mm.datasets.synthetic import PRESETS, generate_synthetic_dota


@pytest.fixture(autouse=True, scope='session')
def mmrotate_default_scope():
    DefaultScope.get_instance('dkd_mm_tests', scope_name='mmrotate')
    yield


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory) -> str:
    """The tiny synthetic DOTA split (128 px; what
    ``tools/data/make_synthetic_dota.py --split tiny`` writes), read only."""
    out = str(tmp_path_factory.mktemp('data') / 'synthetic_dota_tiny')
    generate_synthetic_dota(out, PRESETS['tiny'], progress=False)
    return out
