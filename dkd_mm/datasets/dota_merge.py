"""Patch detections back to full DOTA images: merging, the Task1 files of
the DOTA server, and rotated mAP against the full-image labels.

Merging mirrors mmrotate 1.x's ``DOTAMetric.merge_results``: each patch's
rotated boxes are moved by the offsets in its name
(``<img_id>__<size>__<x>___<y>``, see :mod:`~dkd_mm.datasets.dota_split`),
then rotated NMS (``mmcv.ops.nms_rotated``, IoU 0.1) runs per class over all
detections of a full image, so an object seen by overlapping patches keeps
its best detection.  Patches keep the original resolution, so no scaling is
needed.  Unlike mmrotate, the image id is what precedes the last three
fields of the name (ids holding ``__`` survive) and scores are written with
4 decimals instead of 2.

Evaluation uses mmrotate's ``eval_rbbox_map`` (VOC07 11-point AP at IoU 0.5
by default, as ``DOTAMetric``), with the full-image labels read by the rules
of :mod:`~dkd_mm.datasets.label_checks` and their quadrilaterals turned into
rotated boxes by ``cv2.minAreaRect`` (``qbox2rbox``, as the pipeline's
``ConvertBoxType`` does).
"""
import logging
import os
import os.path as osp
import zipfile
from collections import defaultdict
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.ops import nms_rotated
from mmengine.fileio import load
from mmengine.logging import print_log
from mmrotate.evaluation import eval_rbbox_map
from mmrotate.structures.bbox import hbox2rbox, qbox2rbox, rbox2qbox

from .dota_split import parse_patch_name, read_dota_labels
from .label_checks import LabelIssues

MergedDets = Dict[str, List[np.ndarray]]


class PatchDetections(NamedTuple):
    """Detections of one patch: ``bboxes`` ``(K, 5)`` rotated boxes
    (cx, cy, w, h, angle in radians) in patch pixels, ``scores`` ``(K,)``,
    ``labels`` ``(K,)``."""
    img_id: str
    bboxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray


def _numpy(value) -> np.ndarray:
    if hasattr(value, 'tensor'):  # mmdet BaseBoxes
        value = value.tensor
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def to_patch_detections(item: dict) -> PatchDetections:
    """One item of ``tools/test.py --out`` (a data sample as a dict)."""
    img_id = item.get('img_id') or osp.splitext(
        osp.basename(item['img_path']))[0]
    pred = item['pred_instances']
    bboxes = _numpy(pred['bboxes']).astype(np.float32)
    if bboxes.ndim != 2 or bboxes.shape[1] not in (4, 5):
        raise ValueError(f'{img_id}: expected (K, 5) rotated or (K, 4) '
                         f'horizontal boxes, got shape {bboxes.shape}')
    if bboxes.shape[1] == 4:  # horizontal detector: angle 0
        bboxes = hbox2rbox(torch.from_numpy(bboxes)).numpy()
    return PatchDetections(
        str(img_id), bboxes,
        _numpy(pred['scores']).astype(np.float32).reshape(-1),
        _numpy(pred['labels']).astype(np.int64).reshape(-1))


def load_patch_predictions(path: str) -> List[PatchDetections]:
    """Read the pickle of ``tools/test.py --out preds.pkl`` (a trusted file:
    pickles can run code)."""
    return [to_patch_detections(item) for item in load(path)]


def merge_patch_detections(patches: Sequence[PatchDetections],
                           num_classes: int,
                           iou_thr: float = 0.1) -> MergedDets:
    """Move patch detections to their full images and apply rotated NMS.

    Args:
        patches (Sequence[PatchDetections]): Detections named by patch.
        num_classes (int): Number of classes.
        iou_thr (float): IoU threshold of the per-class rotated NMS.
            Defaults to 0.1 (mmrotate's).

    Returns:
        dict[str, list[np.ndarray]]: Full image id -> per class ``(k, 6)``
        float32 ``cx, cy, w, h, angle, score``, by descending score.
    """
    groups: Dict[str, list] = defaultdict(list)
    for patch in patches:
        img_id, _, x, y = parse_patch_name(patch.img_id)
        if len(patch.labels) and patch.labels.max() >= num_classes:
            raise ValueError(f'{patch.img_id}: label {patch.labels.max()} '
                             f'but only {num_classes} classes')
        bboxes = patch.bboxes.copy()
        bboxes[:, :2] += np.array([x, y], np.float32)
        groups[img_id].append((bboxes, patch.scores, patch.labels))
    merged = {}
    for img_id, parts in groups.items():
        bboxes, scores, labels = (np.concatenate(p) for p in zip(*parts))
        per_class = []
        for cls in range(num_classes):
            keep = labels == cls
            dets = np.zeros((0, 6), np.float32)
            if keep.any():
                dets, _ = nms_rotated(
                    torch.from_numpy(bboxes[keep]),
                    torch.from_numpy(scores[keep]), iou_thr)
                dets = dets.numpy().astype(np.float32)
            per_class.append(dets)
        merged[img_id] = per_class
    return merged


def write_task1(merged: MergedDets,
                classes: Sequence[str],
                out_dir: str,
                zip_name: Optional[str] = 'Task1.zip') -> List[str]:
    """Write ``Task1_<class>.txt`` files, lines ``img_id score x1 y1 ...
    x4 y4``, and zip them for the DOTA server.

    Args:
        merged (dict): Output of :func:`merge_patch_detections`.
        classes (Sequence[str]): Class names, by label.
        out_dir (str): Folder for the files (created; files replaced).
        zip_name (str, optional): Zip of the txt files in ``out_dir``;
            None for none. Defaults to 'Task1.zip'.

    Returns:
        list[str]: The txt files written, one per class.
    """
    os.makedirs(out_dir, exist_ok=True)
    files = [osp.join(out_dir, f'Task1_{c}.txt') for c in classes]
    lines: List[List[str]] = [[] for _ in classes]
    for img_id in sorted(merged):
        for cls, dets in enumerate(merged[img_id]):
            if len(dets) == 0:
                continue
            qboxes = rbox2qbox(torch.from_numpy(dets[:, :5])).numpy()
            for qbox, score in zip(qboxes, dets[:, 5]):
                coords = ' '.join(f'{v:.2f}' for v in qbox)
                lines[cls].append(f'{img_id} {score:.4f} {coords}\n')
    for path, cls_lines in zip(files, lines):
        with open(path, 'w') as f:
            f.writelines(cls_lines)
    if zip_name is not None:
        zip_path = osp.join(out_dir, zip_name)
        with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, osp.basename(path))
    return files


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
