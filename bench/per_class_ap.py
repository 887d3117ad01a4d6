"""AP per class and IoU threshold from a tools/test.py ``--out`` pickle."""
from typing import Dict

import numpy as np


def per_class_ap(config: str, preds_pkl: str) -> Dict[str, float]:
    """mAP50, mAP75, their mean, and AP50 of every class.

    Args:
        config (str): The config whose test dataset gave the predictions.
        preds_pkl (str): Predictions dumped by ``tools/test.py --out``.

    Returns:
        dict: ``mAP50``, ``mAP75``, ``mAP`` and one AP50 per class name.
    """
    from mmengine.config import Config
    from mmengine.fileio import load
    from mmrotate.evaluation.functional import eval_rbbox_map

    import dkd_mm  # noqa: F401
    cfg = Config.fromfile(config)
    classes = cfg.test_dataloader.dataset.metainfo['classes']
    results = load(preds_pkl)
    dets, annotations = [], []
    for item in results:
        pred, gt = item['pred_instances'], item['gt_instances']
        bboxes = _np(pred['bboxes'])
        scores, labels = _np(pred['scores']), _np(pred['labels'])
        dets.append([
            np.hstack([bboxes[labels == c], scores[labels == c, None]])
            for c in range(len(classes))
        ])
        gt_boxes = _np(gt['bboxes']).reshape(-1, 5)
        annotations.append(
            dict(
                bboxes=gt_boxes,
                labels=_np(gt['labels']),
                bboxes_ignore=np.zeros((0, 5)),
                labels_ignore=np.zeros((0, ))))
    out: Dict[str, float] = {}
    for thr in (0.5, 0.75):
        mean_ap, per_class = eval_rbbox_map(
            dets, annotations, iou_thr=thr, box_type='rbox', logger='silent')
        out[f'mAP{int(thr * 100)}'] = float(mean_ap)
        if thr == 0.5:
            out.update({c: float(r['ap']) for c, r in zip(classes, per_class)})
    out['mAP'] = (out['mAP50'] + out['mAP75']) / 2
    return out


def _np(value) -> np.ndarray:
    value = value.tensor if hasattr(value, 'tensor') else value
    return value.cpu().numpy() if hasattr(value, 'cpu') else np.asarray(value)
