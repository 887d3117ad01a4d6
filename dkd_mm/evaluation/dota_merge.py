"""Patch detections back to full DOTA images: merging and the Task1 files
of the DOTA server (the mAP of the result: :mod:`.dota_eval`).

Merging mirrors mmrotate 1.x's ``DOTAMetric.merge_results``: each patch's
rotated boxes are moved by the offsets in its name
(``<img_id>__<size>__<x>___<y>``, see :mod:`dkd_mm_data.dota_split`),
then rotated NMS (``mmcv.ops.nms_rotated``, IoU 0.1) runs per class over all
detections of a full image, so an object seen by overlapping patches keeps
its best detection.  Patches keep the original resolution, so no scaling is
needed.  Unlike mmrotate, the image id is what precedes the last three
fields of the name (ids holding ``__`` survive) and scores are written with
4 decimals instead of 2.
"""
import os
import os.path as osp
import zipfile
from collections import defaultdict
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import torch
from mmcv.ops import nms_rotated
from mmengine.fileio import load
from mmrotate.structures.bbox import hbox2rbox, rbox2qbox

from dkd_mm_data.dota_split import parse_patch_name

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
