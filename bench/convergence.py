"""Has a training run converged?  Its val mAP50 over its schedule.

A teacher worth distilling has stopped improving: its val mAP50, evaluated
every ``--teacher-val-interval`` iterations during training (bench/run.py),
is flat over the last quarter of its schedule.  Read from mmengine's
``vis_data/scalars.json`` of the run.
"""
import json
import os.path as osp
from typing import List, Tuple

from bench import runs

Curve = List[Tuple[int, float]]


def val_curve(checkpoint: str) -> Curve:
    """``(iteration, val mAP50)`` of every validation of the run that
    trained ``checkpoint`` (its scalars, kept beside it by
    :func:`bench.runs.train`); empty where there is none.

    The metric is the evaluator's ``.../AP50`` (DOTA's, or VOC's with
    ``iou_thrs`` including 0.5), else its ``.../mAP`` (VOC at IoU 0.5).
    """
    scalars = runs.scalars_of(checkpoint)
    if not osp.isfile(scalars):
        return []
    curve = []
    with open(scalars) as f:
        for entry in map(json.loads, f):
            keys = [k for k in entry if k.endswith('/AP50')
                    ] or [k for k in entry if k.endswith('/mAP')]
            if keys and 'loss' not in entry:
                curve.append((int(entry['step']), float(entry[keys[0]])))
    return curve


def is_flat(curve: Curve,
            max_iters: int,
            fraction: float = 0.25,
            tolerance: float = 0.01) -> bool:
    """Whether the curve stays within ``tolerance`` over the last
    ``fraction`` of ``max_iters`` (at least two evaluations there)."""
    start = max_iters * (1 - fraction)
    tail = [value for step, value in curve if step >= start]
    return len(tail) >= 2 and max(tail) - min(tail) <= tolerance


def describe(curve: Curve, max_iters: int) -> str:
    """One line for the report: the curve and the verdict."""
    if not curve:
        return 'no validation during training'
    points = ', '.join(f'{step}: {value:.3f}' for step, value in curve)
    verdict = 'flat' if is_flat(curve, max_iters) else 'NOT flat'
    return (f'val mAP50 by iteration {points}; {verdict} over the last '
            'quarter (within 0.01)')
