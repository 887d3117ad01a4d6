"""What fewer boxes into NMS cost in mAP at 1024 px (issue 13 target 2).

    python -m bench.nms_1024 [--nms-pre 500 300] [--write] [--quick]

The single-stage pair of bench/run.py (rotated RetinaNet, ``pair()`` of
bench/cost_pairs.py, its trained checkpoints as ``bench/cost.py
--inference-1024 --trained`` finds them) predicts labelled 1024 px inputs:
mosaics of 4 x 4 of the val split's 256 px images (bench/cost_inference.py's
:func:`~bench.cost_inference.mosaics`, the images the checkpoints were trained
at the scale of), each tile's rotated boxes moved to its place.  Each model
runs with its config's ``test_cfg`` and with ``model.test_cfg.nms_pre`` set
to each ``--nms-pre`` value, one mosaic at a time through the stages of the
detector's own ``predict(rescale=True)`` (bench/inference_stages.py's
:func:`~bench.inference_stages.staged_predict`, checked against ``predict``
on the first input), and is evaluated with the config's test metric
(mmrotate's ``DOTAMetric``, IoU 0.5 and 0.75).  For comparison the same
settings on the 256 px images themselves, in the test loader's batches as
``tools/test.py`` runs them.  Times per image: network and post-processing
together, and the head's ``predict_by_feat`` (score threshold, top-k,
decoding, NMS) alone.  Mosaics, prediction and metric:
bench/mosaic_eval.py.

With ``--write`` the table goes to docs/benchmarks.md between
``<!-- bench/nms_1024.py -->`` markers (after the section "Reading the
per-family cost tables" where they are missing).
"""
import argparse
import datetime
import os
import os.path as osp
import platform
import shlex
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from bench import runs
from bench.cost_common import build_loader, load_config
from bench.cost_inference import build_detector
from bench.cost_pairs import SINGLE_STAGE, pair, trained_ckpt
from bench.data import SYNTHETIC_DOTA
from bench.mosaic_eval import labelled_mosaics, predict_all
from bench.report import write_after

MARKER = '<!-- bench/nms_1024.py -->'
# The section this one follows where the markers are missing.
AFTER = '### Reading the per-family cost tables'
ROLES = ('teacher', 'student')


def measure(args: argparse.Namespace) -> Tuple[List[dict], Dict[str, str]]:
    """Every row of the table: each model and ``nms_pre`` setting on the
    mosaics (and on the tiles unless ``args.no_tiles``).

    Returns:
        tuple: The rows (dicts of :func:`predict_all`'s values and
        ``model``, ``input``, ``nms_pre``, ``own`` (the config's value)) and
        the weights of each model (a path or 'random').
    """
    configs = pair(SINGLE_STAGE)
    weights: Dict[str, str] = {}
    loader = build_loader(
        load_config(*configs['teacher']), args.data_root, 'test_dataloader')
    batches = list(loader)  # raw: each detector preprocesses them itself
    classes = loader.dataset.metainfo['classes']
    rows = []
    for role in ROLES:
        config, options = configs[role]
        ckpt = None if args.random else trained_ckpt(SINGLE_STAGE, role,
                                                     args.trained)
        weights[role] = ckpt or 'random'
        cfg = load_config(config, options)
        own = cfg.model.test_cfg.nms_pre
        for nms_pre in [None] + args.nms_pre:
            extra = [] if nms_pre is None else [
                f'model.test_cfg.nms_pre={nms_pre}'
            ]
            detector = build_detector(config, options + extra, ckpt
                                      and osp.join(runs.ROOT, ckpt))
            data = [detector.data_preprocessor(b, False) for b in batches]
            inputs = {
                f'{args.size} px mosaics':
                [(image, [sample])
                 for image, sample in labelled_mosaics(data, args.size)]
            }
            if not args.no_tiles:
                inputs[f'{max(data[0]["inputs"].shape[-2:])} px images'] = [
                    (d['inputs'], d['data_samples']) for d in data
                ]
            for name, items in inputs.items():
                print(
                    f'[nms_1024] {role} nms_pre={nms_pre or own} {name}',
                    flush=True)
                rows.append(
                    dict(
                        model=role,
                        input=name,
                        nms_pre=nms_pre or own,
                        own=own,
                        images=sum(len(b) for _, b in items),
                        **predict_all(detector, items, cfg.test_evaluator,
                                      classes)))
    return rows, weights


def format_table(rows: Sequence[dict]) -> str:
    """The markdown table of :func:`measure`'s rows, mosaics first, and
    the mAP50 change of each override against the config's value."""
    lines = [
        '| model | input | nms_pre | mAP50 | AP75 | s / image | '
        'post-processing (s / image) | detections / image |',
        '|---|---|---|---|---|---|---|---|'
    ]
    inputs = list(dict.fromkeys(r['input'] for r in rows))
    ordered = sorted(rows, key=lambda r: inputs.index(r['input']))
    for r in ordered:
        nms_pre = f'{r["nms_pre"]}' + (' (config)'
                                       if r['nms_pre'] == r['own'] else '')
        lines.append(f'| {r["model"]} | {r["input"]} ({r["images"]}) | '
                     f'{nms_pre} | {r["mAP50"]:.3f} | {r["mAP75"]:.3f} | '
                     f'{r["s_per_image"]:.3f} | {r["post_s_per_image"]:.3f} '
                     f'| {r["detections"]:.0f} |')
    changes = []
    for r in ordered:
        base = next(b for b in ordered if b['model'] == r['model']
                    and b['input'] == r['input'] and b['nms_pre'] == b['own'])
        if r is not base:
            changes.append(f'{r["model"]}, {r["input"]}, nms_pre '
                           f'{r["nms_pre"]}: mAP50 '
                           f'{r["mAP50"] - base["mAP50"]:+.3f}, AP75 '
                           f'{r["mAP75"] - base["mAP75"]:+.3f}, post-'
                           f'processing x{_ratio(r, base)}')
    return '\n'.join(lines) + ('\n\nAgainst the config\'s nms_pre: ' +
                               '; '.join(changes) + '.' if changes else '')


def _ratio(row: dict, base: dict) -> str:
    return (f'{row["post_s_per_image"] / base["post_s_per_image"]:.2f}'
            if base['post_s_per_image'] > 0 else '-')


def report(args: argparse.Namespace, argv: Sequence[str], rows: List[dict],
           weights: Dict[str, str], seconds: float, load: float) -> str:
    """The section: heading with the command, settings, table."""
    command = shlex.join(['python', '-m', 'bench.nms_1024', *argv])
    configs = pair(SINGLE_STAGE)
    header = (
        f'### Accuracy at {args.size} px with fewer boxes into NMS '
        f'(`{command}`)\n\n'
        f'Date {datetime.date.today()}, {os.cpu_count()} CPU cores '
        f'({platform.processor() or platform.machine()}), torch '
        f'{torch.__version__}, device cpu; took {seconds:.0f} s. ' +
        ', '.join(f'{role} `{configs[role][0]}` (weights `{weights[role]}`)'
                  for role in ROLES) +
        ', each with its `--cfg-options` of bench/run.py (`pair()`); data '
        f'`{args.data_root}`, val split.\n\n'
        f'Inputs: {args.size} px mosaics of the val images (bench/'
        'cost_inference.py\'s `mosaics()`, full grids only, in the loader\'s '
        'order), each tile\'s rotated boxes moved to its place, predicted '
        'one at a time by the stages of the detector\'s own '
        '`predict(rescale=True)` (bench/inference_stages.py\'s '
        '`staged_predict`, checked against `predict`); and '
        'the images themselves in the test loader\'s batches of 4, as '
        '`tools/test.py` runs them. The number of images is in brackets. '
        'nms_pre: the config\'s `test_cfg` value, or '
        '`model.test_cfg.nms_pre=N` for the model (the boxes a level keeps, '
        'after the score threshold, before decoding and NMS). mAP50 / AP75: '
        'the config\'s test metric (mmrotate\'s `DOTAMetric`, 11-point AP, '
        '`iou_thrs=[0.5, 0.75]`). s / image: network and post-processing; '
        'post-processing: the head\'s `predict_by_feat` (score threshold, '
        'top-k, decoding, NMS); mean over the images after one untimed; '
        'the mAP is the point.\n\n')
    return (header + format_table(rows) +
            f' Load average (1 min) before / after: {load:.1f} / '
            f'{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--nms-pre',
        type=int,
        nargs='+',
        default=[500],
        help='nms_pre values to try besides the config\'s own (default 500)')
    parser.add_argument(
        '--trained',
        default='work_dirs',
        metavar='WORK_DIRS',
        help='Where bench/run.py\'s checkpoints are found by their settings '
        'hash (as bench/cost.py --trained); random weights where none is')
    parser.add_argument(
        '--random',
        action='store_true',
        help='Random weights (init_weights) for both models')
    parser.add_argument('--size', type=int, default=1024)
    parser.add_argument(
        '--data-root',
        default=None,
        help=f'Default {SYNTHETIC_DOTA.root} ({SYNTHETIC_DOTA.quick_root} '
        'with --quick); made where missing')
    parser.add_argument(
        '--no-tiles',
        action='store_true',
        help='Skip the rows of the images themselves')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='Seconds: tiny data, random weights, 512 px (2 x 2), no write')
    parser.add_argument('--write', action='store_true')
    parser.add_argument('--out', default='docs/benchmarks.md')
    args = parser.parse_args(argv)
    if args.quick:
        args.random, args.write = True, False
        if args.size == 1024:
            args.size = 512
    args.data_root = args.data_root or (SYNTHETIC_DOTA.quick_root
                                        if args.quick else SYNTHETIC_DOTA.root)
    return args


def main(argv: Optional[Sequence[str]] = None) -> str:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if not osp.isdir(osp.join(runs.ROOT, args.data_root)):
        log_dir = osp.join(runs.ROOT, 'work_dirs', 'nms_1024')
        os.makedirs(log_dir, exist_ok=True)
        SYNTHETIC_DOTA.make(args.data_root, args.quick, log_dir)
    load, start = os.getloadavg()[0], time.time()
    rows, weights = measure(args)
    text = report(args, argv, rows, weights, time.time() - start, load)
    print(text, flush=True)
    if args.write:
        write_after(args.out, MARKER, text, AFTER)
        print(f'written to {args.out}')
    return text


if __name__ == '__main__':
    main()
