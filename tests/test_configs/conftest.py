"""The DOTA sample at the real patch size, made once for the config tests
by ``tools/data/dota/make_sample.py`` (in this process)."""
import os.path as osp
import runpy

import pytest

from tests.test_tools.conftest import ROOT


@pytest.fixture(scope='session')
def dota_sample(tmp_path_factory) -> dict:
    """Full-size scenes in ``DOTA/{train,val}`` and their 1024 px split in
    ``split_ss_dota/trainval`` (see ``dkd_mm.testing.dota_sample``)."""
    tool = runpy.run_path(
        osp.join(ROOT, 'tools', 'data', 'dota', 'make_sample.py'))
    return tool['main']([str(tmp_path_factory.mktemp('dota_sample'))])
