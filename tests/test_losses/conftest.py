"""mmrazor's own losses, to compare dkd_mm's PKD and CWD with."""
import types

import pytest


@pytest.fixture(scope='session')
def mmrazor_losses() -> types.ModuleType:
    """``mmrazor.models.losses`` (mmrazor 1.0.0, installed by the set-up
    from requirements/bench.txt).  On torch 2.13 ``import mmrazor.models``
    needs bench/mmrazor_shim.py first."""
    from bench.mmrazor_shim import apply
    apply()
    import mmrazor.models.losses
    return mmrazor.models.losses
