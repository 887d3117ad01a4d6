"""Tests build mmrotate detectors from the repo's configs, whose default
scope is mmrotate's (as in every run of tools/train.py)."""
import pytest
from mmengine.registry import DefaultScope

import dkd_mm  # noqa: F401  (compat shims before mmrotate)


@pytest.fixture(autouse=True, scope='session')
def mmrotate_default_scope():
    DefaultScope.get_instance('dkd_mm_tests', scope_name='mmrotate')
    yield
