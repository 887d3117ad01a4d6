"""Data sets: the robust DOTA and NWPU VHR-10 loaders, the rules by which
they treat bad labels (:mod:`.labels`), the DOTA splitter
(:mod:`.dota_split`) and the synthetic data renderer (:mod:`.synthetic`).

Merging patch detections and DOTA mAP live in :mod:`dkd_mm.evaluation`.
"""
from dkd_mm_data.dota_split import (SplitSettings, parse_patch_name,
                                    patch_name, sliding_windows, split_image)
from dkd_mm_data.labels import BadLabelError, LabelIssues, read_dota_labels
from .dota import (DOTA_V1_CLASSES, DOTA_V15_CLASSES, RobustDOTADataset,
                   RobustDOTAv15Dataset)
from .nwpu import NWPU_CLASSES, NWPUVHR10Dataset
from .synthetic import (PRESETS, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                        SyntheticDOTAConfig, generate_synthetic_dota)

__all__ = [
    'RobustDOTADataset', 'RobustDOTAv15Dataset', 'DOTA_V1_CLASSES',
    'DOTA_V15_CLASSES', 'NWPUVHR10Dataset', 'NWPU_CLASSES', 'BadLabelError',
    'LabelIssues', 'read_dota_labels', 'PRESETS', 'SYNTHETIC_CLASSES',
    'SYNTHETIC_PALETTE', 'SyntheticDOTAConfig', 'generate_synthetic_dota',
    'SplitSettings', 'parse_patch_name', 'patch_name', 'sliding_windows',
    'split_image'
]
