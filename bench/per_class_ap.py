"""AP per class and IoU threshold from a tools/test.py ``--out`` pickle.

The config's own test metric decides how boxes are matched: mmrotate's
``DOTAMetric`` (rotated boxes, ``eval_rbbox_map``) or mmdet's ``VOCMetric``
(horizontal boxes, ``eval_map`` with VOC's ``x2 - x1 + 1`` widths), each with
the metric's ``eval_mode`` (both default to '11points', as the metrics do).
"""
from functools import partial
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

# Box width of the predictions each metric evaluates.
BOX_DIMS = {'DOTAMetric': 5, 'VOCMetric': 4}


def per_class_ap(config: str, preds_pkl: str) -> Dict[str, float]:
    """mAP50, mAP75, their mean, and AP50 of every class.

    Args:
        config (str): The config whose test dataset and metric gave the
            predictions.
        preds_pkl (str): Predictions dumped by ``tools/test.py --out``: one
            dict per image with ``pred_instances`` (``bboxes`` (N, B),
            ``scores`` (N, ), ``labels`` (N, )), ``gt_instances`` and,
            where the dataset has them, ``ignored_instances`` (``bboxes``
            (M, B), ``labels`` (M, )); B is 5 for rotated and 4 for
            horizontal boxes.

    Returns:
        dict: ``mAP50``, ``mAP75``, ``mAP`` and one AP50 per class name (the
        mean is over the classes with ground truth, as the metrics take it).
    """
    from mmengine.config import Config
    from mmengine.fileio import load

    import dkd_mm  # noqa: F401
    cfg = Config.fromfile(config)
    classes = dataset_classes(cfg.test_dataloader.dataset)
    evaluate, box_dim = map_function(cfg.test_evaluator)
    dets, annotations = to_map_inputs(load(preds_pkl), len(classes), box_dim)
    out: Dict[str, float] = {}
    for thr in (0.5, 0.75):
        mean_ap, per_class = evaluate(dets, annotations, iou_thr=thr)
        out[f'mAP{int(thr * 100)}'] = float(mean_ap)
        if thr == 0.5:
            out.update({c: float(r['ap']) for c, r in zip(classes, per_class)})
    out['mAP'] = (out['mAP50'] + out['mAP75']) / 2
    return out


def dataset_classes(dataset: dict) -> Sequence[str]:
    """The class names of a dataset config: its ``metainfo`` or, where it
    sets none, its dataset class's ``METAINFO``."""
    classes = (dataset.get('metainfo') or {}).get('classes')
    if classes is None:
        from dkd_mm.registry import DATASETS
        classes = DATASETS.get(dataset['type']).METAINFO['classes']
    return classes


def map_function(evaluator: dict) -> Tuple[Callable, int]:
    """The mAP function of a test evaluator config, called as
    ``f(dets, annotations, iou_thr=...)``, and the box width it takes."""
    metric = evaluator['type'].split('.')[-1]
    eval_mode = evaluator.get('eval_mode', '11points')
    if metric == 'DOTAMetric':
        from mmrotate.evaluation.functional import eval_rbbox_map
        return partial(
            eval_rbbox_map,
            use_07_metric=eval_mode == '11points',
            box_type='rbox',
            logger='silent'), BOX_DIMS[metric]
    if metric == 'VOCMetric':
        from mmdet.evaluation.functional import eval_map
        return partial(
            eval_map,
            eval_mode=eval_mode,
            use_legacy_coordinate=True,
            logger='silent'), BOX_DIMS[metric]
    raise ValueError(f'no per-class AP for test_evaluator type '
                     f'{evaluator["type"]!r}; known: {sorted(BOX_DIMS)}')


def to_map_inputs(results: List[dict], num_classes: int,
                  box_dim: int) -> Tuple[List[List[np.ndarray]], List[dict]]:
    """Per-image detections by class, ``(K, box_dim + 1)`` boxes and scores,
    and per-image annotation dicts, as ``eval_map``/``eval_rbbox_map`` take
    them."""
    dets, annotations = [], []
    for item in results:
        pred, gt = item['pred_instances'], item['gt_instances']
        bboxes = _np(pred['bboxes'])
        scores, labels = _np(pred['scores']), _np(pred['labels'])
        dets.append([
            np.hstack([bboxes[labels == c], scores[labels == c, None]])
            for c in range(num_classes)
        ])
        ignored = item.get('ignored_instances') or {}
        annotations.append(
            dict(
                bboxes=_np(gt['bboxes']).reshape(-1, box_dim),
                labels=_np(gt['labels']),
                bboxes_ignore=_np(ignored.get('bboxes',
                                              [])).reshape(-1, box_dim),
                labels_ignore=_np(ignored.get('labels', [])).reshape(-1)))
    return dets, annotations


def _np(value) -> np.ndarray:
    value = value.tensor if hasattr(value, 'tensor') else value
    return value.cpu().numpy() if hasattr(value, 'cpu') else np.asarray(value)
