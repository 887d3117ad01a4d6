"""Evaluation on full DOTA images: patch detections merged back to their
images (:mod:`.dota_merge`, with the DOTA server's Task1 files) and their
rotated mAP against the full-image labels (:mod:`.dota_eval`).

Not a data set's job, so not in :mod:`dkd_mm.datasets`; nothing here
registers a module.
"""
from .dota_eval import evaluate_merged, load_full_annotations
from .dota_merge import (MergedDets, PatchDetections, load_patch_predictions,
                         merge_patch_detections, to_patch_detections,
                         write_task1)

__all__ = [
    'evaluate_merged', 'load_full_annotations', 'MergedDets',
    'PatchDetections', 'load_patch_predictions', 'merge_patch_detections',
    'to_patch_detections', 'write_task1'
]
