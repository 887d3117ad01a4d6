from .checkpoint import (UnsafeCheckpointError, extract_student,
                         load_checkpoint_safely)
from .env import check_mmcv_ops
from .setup_env import register_all_modules

__all__ = [
    'UnsafeCheckpointError', 'extract_student', 'load_checkpoint_safely',
    'check_mmcv_ops', 'register_all_modules'
]
