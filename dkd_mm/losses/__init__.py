from .fitnet_loss import FitNetLoss
from .gd_loss import DynamicGlobalDistillLoss
from .isd_loss import InstanceSelectionDistillLoss
from .tsa_loss import TSALoss

__all__ = [
    'FitNetLoss', 'DynamicGlobalDistillLoss', 'InstanceSelectionDistillLoss',
    'TSALoss'
]
