"""Plot training curves from mmengine json logs, one panel per key.

    python tools/analysis/plot_curves.py LOG [LOG ...] [--keys K ...]
        [--legend NAME ...] [--out FILE.png|FILE.pdf] [--title T]

LOG is the ``scalars.json`` (or ``<timestamp>.json``) that mmengine writes
under ``<work_dir>/<timestamp>/vis_data/``, or a work dir (its latest run is
used). Each line is one JSON record: training records hold ``step``
(iteration), ``lr`` and the losses, e.g. ``loss_global_distill_fg`` or
``isd_selected``; validation records hold metrics such as ``dota/mAP`` and are
plotted at the iteration they followed (mmengine writes their ``step`` as the
epoch, 0 in iteration-based runs). KEYS are names or shell patterns (default
``loss*``), e.g. ``--keys 'loss_*' 'isd_*' lr dota/mAP``. Several logs are
overlaid in every panel, as mmdet's ``analyze_logs.py plot_curve`` does. Keys
matching a ``--together`` pattern (default ``isd_*``: the ISD counts) share one
panel.
"""
import argparse
import fnmatch
import glob
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

Curve = Tuple[List[float], List[float]]  # (iterations, values)
PANEL_SIZE = (4.0, 3.0)  # inches per panel
MAX_COLS = 3


def find_log(path: str) -> str:
    """``path`` itself, or the latest ``*/vis_data/scalars.json`` under it."""
    if not osp.isdir(path):
        return path
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no */vis_data/scalars.json in {path}')
    return found[-1]


def load_curves(path: str) -> Dict[str, Curve]:
    """Every numeric key of a log as (iterations, values).

    Training records (those with ``lr`` or a ``loss*`` key) are at their
    ``step``; any other record (validation) at the last training step
    before it, or at its own ``step`` if none came before, and its keys
    without a ``/`` get a ``val/`` prefix (``val/time``).
    """
    curves: Dict[str, Curve] = {}
    last_step: Optional[float] = None
    with open(find_log(path)) as file:
        for line in file:
            if not line.strip():
                continue
            record = json.loads(line)
            train = 'lr' in record or any(k.startswith('loss') for k in record)
            step = record.get('step', 0)
            if train:
                last_step = step
            elif last_step is not None:
                step = last_step
            for key, value in record.items():
                if key == 'step' or not _is_number(value):
                    continue
                if not train and '/' not in key:
                    key = f'val/{key}'  # e.g. time, not the training time
                xs, ys = curves.setdefault(key, ([], []))
                xs.append(step)
                ys.append(float(value))
    return curves


def select_keys(patterns: Sequence[str],
                runs: Sequence[Dict[str, Curve]]) -> List[str]:
    """Keys of any run matching the patterns, in pattern then log order."""
    available: List[str] = []
    for curves in runs:
        available += [k for k in curves if k not in available]
    keys: List[str] = []
    for pattern in patterns:
        matched = [k for k in available if fnmatch.fnmatchcase(k, pattern)]
        keys += [k for k in matched if k not in keys]
    if not keys:
        raise KeyError(f'no key matches {list(patterns)}; the logs have '
                       f'{available}')
    return keys


def group_keys(keys: Sequence[str],
               together: Sequence[str]) -> List[Tuple[str, List[str]]]:
    """(title, keys) per panel: one key each, except that the keys
    matching one ``together`` pattern share the panel of the first."""
    panels: List[Tuple[str, List[str]]] = []
    shared: Dict[str, List[str]] = {}
    for key in keys:
        pattern = next((p for p in together if fnmatch.fnmatchcase(key, p)),
                       None)
        if pattern is None:
            panels.append((key, [key]))
        elif pattern in shared:
            shared[pattern].append(key)
        else:
            shared[pattern] = [key]
            panels.append((pattern, shared[pattern]))
    return panels


def grid_shape(num_panels: int) -> Tuple[int, int]:
    """(rows, cols) of the panel grid: at most ``MAX_COLS`` columns."""
    cols = min(num_panels, MAX_COLS)
    return math.ceil(num_panels / cols), cols


def plot(runs: Sequence[Dict[str, Curve]],
         panels: Sequence[Tuple[str, List[str]]],
         legend: Sequence[str],
         title: Optional[str] = None) -> plt.Figure:
    """One panel per entry of ``panels``, every run overlaid."""
    rows, cols = grid_shape(len(panels))
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows),
        squeeze=False)
    for ax, (name, keys) in zip(axes.flat, panels):
        for run, curves in zip(legend, runs):
            for key in (k for k in keys if k in curves):
                xs, ys = curves[key]
                label = ' '.join(([run] if len(runs) > 1 else []) +
                                 ([key] if len(keys) > 1 else []))
                ax.plot(
                    xs,
                    ys,
                    marker='o' if len(xs) <= 20 else None,
                    markersize=3,
                    label=label or None)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel('iteration', fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if len(runs) > 1 or len(keys) > 1:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis('off')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('logs', nargs='+', help='json logs or work dirs')
    parser.add_argument(
        '--keys', nargs='+', default=['loss*'], help='names or patterns')
    parser.add_argument(
        '--together',
        nargs='*',
        default=['isd_*'],
        help='patterns whose keys share a panel')
    parser.add_argument('--legend', nargs='+', help='one name per log')
    parser.add_argument('--out', default='curves.png', help='.png or .pdf')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--dpi', type=int, default=100, help='PNG dpi')
    args = parser.parse_args(argv)
    legend = args.legend or [_run_name(find_log(p)) for p in args.logs]
    if len(legend) != len(args.logs):
        parser.error(f'{len(legend)} legend names for {len(args.logs)} logs')
    runs = [load_curves(p) for p in args.logs]
    keys = select_keys(args.keys, runs)
    fig = plot(runs, group_keys(keys, args.together), legend, args.title)
    fig.savefig(args.out, dpi=args.dpi)
    plt.close(fig)
    print(f'plotted {len(keys)} keys of {len(runs)} logs to {args.out}')
    return args.out


def _run_name(log: str) -> str:
    """The work dir's name for ``<work_dir>/<ts>/vis_data/*.json``."""
    log = osp.abspath(log)
    if osp.basename(osp.dirname(log)) == 'vis_data':
        return osp.basename(osp.dirname(osp.dirname(osp.dirname(log))))
    return osp.splitext(osp.basename(log))[0]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


if __name__ == '__main__':
    main()
