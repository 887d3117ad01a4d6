"""dkd_mm: Dynamic Knowledge Distillation (DKD) for OpenMMLab detectors.

Add ``custom_imports=dict(imports=['dkd_mm'], allow_failed_imports=False)``
to a config to make every dkd_mm component buildable.
"""
from . import compat

compat.apply()  # before mmrotate is imported anywhere below

from .setup_env import register_all_modules  # noqa: E402

__version__ = '0.1.0'

register_all_modules(init_default_scope=False)

__all__ = ['register_all_modules', '__version__']
