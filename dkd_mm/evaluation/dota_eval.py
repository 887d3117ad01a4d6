"""Rotated mAP of merged detections against full-image DOTA labels.

Evaluation uses mmrotate's ``eval_rbbox_map`` (VOC07 11-point AP at IoU 0.5
by default, as ``DOTAMetric``), with the full-image labels read by
:func:`dkd_mm_data.labels.read_dota_labels` (the loader's rules) and
their quadrilaterals turned into rotated boxes by ``cv2.minAreaRect``
(``qbox2rbox``, as the pipeline's ``ConvertBoxType`` does).
"""
import logging
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.logging import print_log
from mmrotate.evaluation import eval_rbbox_map
from mmrotate.structures.bbox import qbox2rbox

from dkd_mm_data.labels import LabelIssues, read_dota_labels
from .dota_merge import MergedDets


def load_full_annotations(ann_dir: str,
                          classes: Sequence[str],
                          diff_thr: int = 100,
                          on_bad_label: str = 'skip') -> Dict[str, dict]:
    """Full-image DOTA labels as ``eval_rbbox_map`` annotations.

    Args:
        ann_dir (str): Folder of original label files (``<img_id>.txt``).
        classes (Sequence[str]): Class names, by label.
        diff_thr (int): Objects with a difficulty above it are ignored
            (neither missed nor false positives when matched), as
            ``DOTADataset``'s ``diff_thr``. Defaults to 100.
        on_bad_label (str): 'skip' or 'error'. Defaults to 'skip'.

    Returns:
        dict[str, dict]: img_id -> ``bboxes`` ``(n, 5)``, ``labels``,
        ``bboxes_ignore``, ``labels_ignore``.
    """
    issues = LabelIssues(on_bad_label)
    names = sorted(n for n in os.listdir(ann_dir) if n.endswith('.txt'))
    if not names:
        raise ValueError(f'There is no txt file in {ann_dir}')
    annotations = {}
    for name in names:
        # no image here, so no 'outside' rule
        objs = read_dota_labels(osp.join(ann_dir, name), issues, None, classes)
        if objs is None:
            continue
        labels = np.array([classes.index(c) for c in objs.classes], np.int64)
        ignore = np.array(objs.difficulties, np.int64) > diff_thr
        annotations[osp.splitext(name)[0]] = dict(
            bboxes=_qboxes_to_rboxes(objs.polys[~ignore]),
            labels=labels[~ignore],
            bboxes_ignore=_qboxes_to_rboxes(objs.polys[ignore]),
            labels_ignore=labels[ignore])
    issues.report(f'labels in {ann_dir}', len(annotations))
    return annotations


def _qboxes_to_rboxes(qboxes: np.ndarray) -> np.ndarray:
    if len(qboxes) == 0:
        return np.zeros((0, 5), np.float32)
    return qbox2rbox(torch.from_numpy(qboxes.astype(np.float32))).numpy()


def evaluate_merged(merged: MergedDets,
                    annotations: Dict[str, dict],
                    classes: Sequence[str],
                    iou_thr: float = 0.5,
                    use_07_metric: bool = True,
                    nproc: int = 2) -> Tuple[float, List[dict]]:
    """Rotated mAP of merged detections on the labelled full images, with
    mmrotate's ``eval_rbbox_map``; prints its per-class table.

    Images without detections count with none; detections of images
    without labels are left out (with a warning).

    Args:
        merged (dict): Output of :func:`merge_patch_detections`.
        annotations (dict): Output of :func:`load_full_annotations`.
        classes (Sequence[str]): Class names, by label.
        iou_thr (float): IoU for a match. Defaults to 0.5.
        use_07_metric (bool): VOC07 11-point AP (``DOTAMetric``'s default
            ``eval_mode='11points'``); False for the area. Defaults to True.
        nproc (int): Processes of ``eval_rbbox_map``. Defaults to 2.

    Returns:
        tuple[float, list[dict]]: mAP and the per-class results.
    """
    unlabelled = sorted(set(merged) - set(annotations))
    if unlabelled:
        print_log(
            f'{len(unlabelled)} merged images have no label file and are '
            f'not evaluated: {unlabelled[:5]}',
            logger='current',
            level=logging.WARNING)
    empty = [np.zeros((0, 6), np.float32) for _ in classes]
    img_ids = sorted(annotations)
    dets = [merged.get(i, empty) for i in img_ids]
    return eval_rbbox_map(
        dets, [annotations[i] for i in img_ids],
        iou_thr=iou_thr,
        use_07_metric=use_07_metric,
        box_type='rbox',
        dataset=list(classes),
        nproc=nproc)
