from .checkpoint import (UnsafeCheckpointError, extract_student,
                         load_checkpoint_safely)
from .env import check_mmcv_ops

__all__ = [
    'UnsafeCheckpointError', 'extract_student', 'load_checkpoint_safely',
    'check_mmcv_ops'
]
