"""Merge patch detections to full DOTA images; write the Task1 submission
files; optionally evaluate them against the full-image labels.

    python tools/test.py CONFIG CKPT --out preds.pkl   # on split patches
    python tools/data/dota/merge.py preds.pkl --out-dir work_dirs/Task1 \\
        [--config CONFIG | --dataset dota_v15] \\
        [--ann-dir data/DOTA/val/labelTxt]

Writes ``OUT_DIR/Task1_<class>.txt`` (lines ``img_id score x1 y1 ... x4
y4``) and ``OUT_DIR/Task1.zip`` for the DOTA server.  With ``--ann-dir``
(original label files of the full images) it prints mmrotate's mAP table
and, with ``--metrics-out``, writes ``{"mAP": ..., "AP_<class>": ...}``.
The classes come from ``--config`` (its test dataset's ``metainfo`` or
dataset type) or ``--dataset``.  Rules: :mod:`dkd_mm.evaluation.dota_merge`
and :mod:`dkd_mm.evaluation.dota_eval`.
"""
import argparse
import json
from typing import List, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import DATASETS, init_default_scope

import dkd_mm  # noqa: F401  (compat shims and registration)
from dkd_mm.datasets import dota
from dkd_mm.evaluation import dota_eval, dota_merge

DATASET_CLASSES = dict(
    dota_v1=dota.DOTA_V1_CLASSES, dota_v15=dota.DOTA_V15_CLASSES)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Merge DOTA patch results')
    add = parser.add_argument
    add('predictions', help='pickle of tools/test.py --out on patches')
    add('--out-dir', required=True, help='folder for the Task1 files')
    add('--config', help='take the class names from this config')
    add('--dataset',
        choices=sorted(DATASET_CLASSES),
        default='dota_v1',
        help='class names when no --config is given')
    add('--ann-dir', help='full-image label files: evaluate against them')
    add('--nms-iou-thr', type=float, default=0.1, help='rotated NMS IoU')
    add('--iou-thr', type=float, default=0.5, help='IoU of a match (mAP)')
    add('--eval-mode', choices=['11points', 'area'], default='11points')
    add('--diff-thr',
        type=int,
        default=100,
        help='ignore labelled objects of a higher difficulty')
    add('--metrics-out', help='write the metrics to this json file')
    add('--nproc', type=int, default=2, help='processes for the mAP')
    return parser.parse_args(argv)


def classes_of_config(path: str) -> Tuple[str, ...]:
    """Class names of a config's test dataset."""
    cfg = Config.fromfile(path)
    dataset = cfg.test_dataloader.dataset
    metainfo = dataset.get('metainfo') or {}
    if metainfo.get('classes'):
        return tuple(metainfo['classes'])
    init_default_scope(cfg.get('default_scope', 'mmrotate'))
    dataset_cls = DATASETS.get(dataset.type)
    classes = getattr(dataset_cls, 'METAINFO', {}).get('classes')
    if not classes:
        raise ValueError(f'{path}: no class names in test_dataloader.dataset'
                         ' (metainfo.classes or its METAINFO)')
    return tuple(classes)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    classes = classes_of_config(args.config) if args.config else \
        DATASET_CLASSES[args.dataset]
    patches = dota_merge.load_patch_predictions(args.predictions)
    merged = dota_merge.merge_patch_detections(patches, len(classes),
                                               args.nms_iou_thr)
    files = dota_merge.write_task1(merged, classes, args.out_dir)
    num_dets = sum(len(d) for dets in merged.values() for d in dets)
    print(f'Merged {len(patches)} patches into {len(merged)} images, '
          f'{num_dets} detections; Task1 files in {args.out_dir} '
          f'({len(files)} classes, Task1.zip)')
    if args.ann_dir is None:
        return
    annotations = dota_eval.load_full_annotations(args.ann_dir, classes,
                                                  args.diff_thr)
    mean_ap, results = dota_eval.evaluate_merged(
        merged,
        annotations,
        classes,
        iou_thr=args.iou_thr,
        use_07_metric=args.eval_mode == '11points',
        nproc=args.nproc)
    print(f'merged mAP@{args.iou_thr}: {mean_ap:.4f} '
          f'on {len(annotations)} full images')
    if args.metrics_out:
        metrics = {'mAP': float(mean_ap)}
        metrics.update({
            f'AP_{c}': float(r['ap'])
            for c, r in zip(classes, results)
        })
        with open(args.metrics_out, 'w') as f:
            json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    main()
