from .dota import (DOTA_V1_CLASSES, DOTA_V15_CLASSES, RobustDOTADataset,
                   RobustDOTAv15Dataset)
from .label_checks import BadLabelError, LabelIssues
from .nwpu import NWPU_CLASSES, NWPUVHR10Dataset
from .synthetic_dota import (PRESETS, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                             SyntheticDOTAConfig, generate_synthetic_dota)

__all__ = [
    'RobustDOTADataset', 'RobustDOTAv15Dataset', 'DOTA_V1_CLASSES',
    'DOTA_V15_CLASSES', 'NWPUVHR10Dataset', 'NWPU_CLASSES', 'BadLabelError',
    'LabelIssues', 'PRESETS', 'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE',
    'SyntheticDOTAConfig', 'generate_synthetic_dota'
]
