from .dota import (DOTA_V1_CLASSES, DOTA_V15_CLASSES, RobustDOTADataset,
                   RobustDOTAv15Dataset)
from .dota_merge import (PatchDetections, evaluate_merged,
                         load_full_annotations, load_patch_predictions,
                         merge_patch_detections, write_task1)
from .dota_split import (SplitSettings, parse_patch_name, patch_name,
                         sliding_windows, split_image)
from .label_checks import BadLabelError, LabelIssues
from .nwpu import NWPU_CLASSES, NWPUVHR10Dataset
from .synthetic_dota import (PRESETS, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                             SyntheticDOTAConfig, generate_synthetic_dota)

__all__ = [
    'RobustDOTADataset', 'RobustDOTAv15Dataset', 'DOTA_V1_CLASSES',
    'DOTA_V15_CLASSES', 'NWPUVHR10Dataset', 'NWPU_CLASSES', 'BadLabelError',
    'LabelIssues', 'PRESETS', 'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE',
    'SyntheticDOTAConfig', 'generate_synthetic_dota', 'PatchDetections',
    'evaluate_merged', 'load_full_annotations', 'load_patch_predictions',
    'merge_patch_detections', 'write_task1', 'SplitSettings',
    'parse_patch_name', 'patch_name', 'sliding_windows', 'split_image'
]
