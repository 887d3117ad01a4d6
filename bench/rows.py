"""One seed of one row of bench/run.py's tables: its run trained (or
found cached in work_dirs/, or recorded in bench/ledger_entries/) and
evaluated on the test and val splits."""
import argparse
import glob
import json
import os.path as osp
import re
from typing import Dict, List, Optional

from bench import ledger, runs
from bench.data import BenchData
from bench.per_class_ap import per_class_ap
from bench.runs import TEACHER


def run_dir(work_dir: str, name: str, seed: int) -> str:
    """The work directory of method ``name``'s run of ``seed``."""
    return osp.join(work_dir,
                    re.sub(r'[^\w+.-]+', '_', name).strip('_') + f'_s{seed}')


def train(name: str,
          config: str,
          iters: int,
          seed: int,
          work_dir: str,
          data_root: str,
          extra: List[str],
          teacher: str = TEACHER,
          cached_only: bool = False) -> Optional[str]:
    """The checkpoint of method ``name``'s run with these settings, trained
    unless cached (None where it is not cached and ``cached_only``)."""
    return runs.train(
        config,
        run_dir(work_dir, name, seed),
        iters,
        seed,
        data_root,
        extra,
        teacher,
        cached_only=cached_only)


def evaluate(config: str, ckpt: str, data: BenchData, data_root: str,
             extra: List[str]) -> Dict[str, float]:
    """Test metrics (mAP at IoU 0.5 and 0.75, per-class AP50, with the
    config's test metric, DOTA's or VOC's) and the same of the val split,
    each name prefixed ``val_`` (``val_mAP50``, ``val_AP50_ship``...)."""
    metrics = {}
    for split, options in (('val', list(data.val_options)), ('test', [])):
        preds = osp.join(osp.dirname(ckpt), f'preds_{split}.pkl')
        if osp.isfile(preds) and osp.getmtime(preds) > osp.getmtime(ckpt):
            print(
                f'[{osp.dirname(ckpt)}] {split} predictions of this '
                f'checkpoint exist: {preds}',
                flush=True)
        else:
            runs.test(config, ckpt, data_root, ['--out', preds],
                      ['test_evaluator.iou_thrs=[0.5,0.75]'] + extra + options)
        split_metrics = per_class_ap(
            osp.join(runs.ROOT, config), osp.join(runs.ROOT, preds))
        if split == 'val':  # every val metric, 'val_' before its name
            metrics.update({f'val_{k}': v for k, v in split_metrics.items()})
        else:
            metrics.update(split_metrics)
    metrics['s_per_iter'] = seconds_per_iter(osp.dirname(ckpt))
    return metrics


def row_metrics(name: str, config: str, seed: int, args: argparse.Namespace,
                data: BenchData, data_root: str, options: List[str],
                teacher_cfg: str, digest: Optional[str]) -> Optional[dict]:
    """Method ``name``'s metrics for ``seed`` (:func:`evaluate`'s): from
    bench/ledger_entries/ where a run of these settings under a teacher of
    weights ``digest`` is recorded there, else trained (unless cached) and
    evaluated, and recorded (not with ``--quick``, whose ``digest`` is
    None); None where ``--cached-only`` leaves it out."""
    key = runs.run_key(config, args.student_iters, seed, data_root, options,
                       teacher_cfg)
    metrics = None if digest is None else ledger.lookup(key, digest)
    if metrics is not None:
        return metrics
    ckpt = train(name, config, args.student_iters, seed, args.work_dir,
                 data_root, options, teacher_cfg, args.cached_only)
    if ckpt is None:
        return None
    metrics = evaluate(config, ckpt, data, data_root, options)
    if digest is not None:
        ledger.record(
            key, name, seed, metrics, digest, config=config, options=options)
    return metrics


def seconds_per_iter(run_dir: str) -> Optional[float]:
    """Mean training step time (s) logged by the newest training run in
    ``run_dir`` (mmengine's ``vis_data/scalars.json``), or None."""
    for scalars in sorted(
            glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')),
            reverse=True):
        with open(scalars) as f:
            times = [
                entry['time'] for entry in map(json.loads, f)
                if 'loss' in entry and 'time' in entry
            ]
        if times:
            return sum(times) / len(times)
    return None
