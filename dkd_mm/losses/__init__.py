from .cwd_loss import CWDLoss
from .fgd_loss import FGDLoss
from .fitnet_loss import FitNetLoss
from .global_distill_loss import DynamicGlobalDistillLoss
from .isd_loss import InstanceSelectionDistillLoss
from .pkd_loss import PKDLoss
from .tsa_loss import TSALoss

__all__ = [
    'CWDLoss', 'FGDLoss', 'FitNetLoss', 'DynamicGlobalDistillLoss',
    'InstanceSelectionDistillLoss', 'PKDLoss', 'TSALoss'
]
