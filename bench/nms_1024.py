"""What fewer boxes into NMS cost in mAP at 1024 px (issue 13 target 2).

    python bench/nms_1024.py [--nms-pre 500 300] [--write] [--quick]

The single-stage pair of bench/run.py (rotated RetinaNet, ``pair()`` of
bench/cost_families.py, its trained checkpoints as ``bench/cost.py
--inference-1024 --trained`` finds them) predicts labelled 1024 px inputs:
mosaics of 4 x 4 of the val split's 256 px images (bench/cost_inference.py's
:func:`~bench.cost_inference.mosaics`, the images the checkpoints were trained
at the scale of), each tile's rotated boxes moved to its place.  Each model
runs with its config's ``test_cfg`` and with ``model.test_cfg.nms_pre`` set
to each ``--nms-pre`` value, one mosaic at a time through the stages of the
detector's own ``predict(rescale=True)`` (bench/cost_inference.py's
:func:`~bench.cost_inference.staged_predict`, checked against ``predict``
on the first input), and is evaluated with the config's test metric
(mmrotate's ``DOTAMetric``, IoU 0.5 and 0.75).  For comparison the same
settings on the 256 px images themselves, in the test loader's batches as
``tools/test.py`` runs them.  Times per image: network and post-processing
together, and the head's ``predict_by_feat`` (score threshold, top-k,
decoding, NMS) alone.

With ``--write`` the table goes to docs/benchmarks.md between
``<!-- bench/nms_1024.py -->`` markers (after the section "Reading the
per-family cost tables" where they are missing).
"""
import argparse
import contextlib
import datetime
import importlib
import logging
import multiprocessing.dummy
import os
import os.path as osp
import platform
import shlex
import sys
import time
from typing import Dict, Iterator, List, Optional, Sequence, Tuple
from unittest import mock

import torch
from mmdet.structures import DetDataSample
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData
from torch import Tensor, nn

from bench import runs
from bench.cost import _config, _loader
from bench.cost_families import SINGLE_STAGE, pair, trained_ckpt
from bench.cost_inference import (_detector, mosaics, same_as_predict,
                                  staged_predict)
from bench.data import SYNTHETIC_DOTA
from bench.report import write_section

MARKER = '<!-- bench/nms_1024.py -->'
# The section this one follows where the markers are missing.
AFTER = '### Reading the per-family cost tables'
ROLES = ('teacher', 'student')


def tile_boxes(boxes: Tensor,
               row: int,
               col: int,
               side: int,
               scale: float = 1.0) -> Tensor:
    """Rotated boxes of the tile at ``(row, col)`` of a grid of ``side`` px
    tiles, in the grid's pixels, then scaled by ``scale`` (a grid resized
    to another side).

    Args:
        boxes (Tensor): ``(K, 5)`` boxes ``(cx, cy, w, h, angle)`` in the
            tile's pixels.
        row (int): The tile's row (its top at ``row * side``).
        col (int): The tile's column (its left at ``col * side``).
        side (int): Tile side in pixels.
        scale (float): Mosaic side / grid side. Defaults to 1.0.

    Returns:
        Tensor: ``(K, 5)`` boxes in the mosaic's pixels; the angle (a
        resize by the same factor on both axes keeps it) unchanged.
    """
    if boxes.shape[-1] != 5:
        raise ValueError(f'rotated boxes (K, 5) expected, got '
                         f'{tuple(boxes.shape)}')
    shift = boxes.new_tensor([col * side, row * side, 0.0, 0.0, 0.0])
    factor = boxes.new_tensor([scale, scale, scale, scale, 1.0])
    return (boxes + shift) * factor


def _tile_instances(instances: InstanceData, row: int, col: int, side: int,
                    scale: float) -> InstanceData:
    """A copy of ``instances`` whose ``bboxes`` are :func:`tile_boxes`'."""
    out = instances.clone()
    boxes = instances.bboxes
    out.bboxes = type(boxes)(tile_boxes(boxes.tensor, row, col, side, scale))
    return out


def labelled_mosaics(data: Sequence[dict],
                     size: int) -> List[Tuple[Tensor, DetDataSample]]:
    """Mosaics of preprocessed test batches, with the labels of their tiles.

    Args:
        data (Sequence[dict]): A data preprocessor's outputs (``inputs``
            ``(B, 3, H, W)``, ``data_samples`` with ``gt_instances`` and
            ``ignored_instances``, rotated boxes), in the loader's order.
        size (int): Side of each mosaic in pixels.

    Returns:
        list[tuple[Tensor, DetDataSample]]: As
        :func:`bench.cost_inference.mosaics` (``(1, 3, size, size)``
        inputs, as many full ``n x n`` grids as the images fill), each
        sample with its tiles' ``gt_instances`` and ``ignored_instances``
        moved to their tile's place.
    """
    samples = [s for batch in data for s in batch['data_samples']]
    side = max(data[0]['inputs'].shape[-2:])
    n = max(1, round(size / side))
    count = len(samples) // n**2
    if count == 0:
        raise ValueError(f'{len(samples)} images fill no {n} x {n} mosaic '
                         f'of {size} px; pass a smaller size')
    out = mosaics(data, lambda batch, training: batch, size, count)
    scale = size / (n * side)
    for k, (_, mosaic) in enumerate(out):
        gts, ignored = [], []
        for i, sample in enumerate(samples[k * n * n:(k + 1) * n * n]):
            if max(sample.img_shape) > side:  # cropped: its labels too
                raise ValueError(f'image {sample.img_id} '
                                 f'{sample.img_shape} exceeds the mosaic '
                                 f'tile of {side} px')
            place = (i // n, i % n, side, scale)
            gts.append(_tile_instances(sample.gt_instances, *place))
            ignored.append(_tile_instances(sample.ignored_instances, *place))
        mosaic.gt_instances = InstanceData.cat(gts)
        mosaic.ignored_instances = InstanceData.cat(ignored)
    return out


@contextlib.contextmanager
def metric_in_threads() -> Iterator[None]:
    """mmrotate's ``eval_rbbox_map`` in threads of this process.

    Every call starts a 'spawn' pool of 4 processes, each importing torch
    and mmrotate anew: about 20 s on 2 busy cores, for a count of true and
    false positives that takes well under a second here.  A thread pool
    (``multiprocessing.dummy``) runs the same function on the same inputs.
    """
    module = importlib.import_module('mmrotate.evaluation.functional.mean_ap')
    with mock.patch.object(module, 'get_context',
                           lambda method: multiprocessing.dummy):
        yield


def evaluate(samples: Sequence[DetDataSample], evaluator_cfg: dict,
             classes: Sequence[str]) -> Dict[str, float]:
    """mAP50 and AP75 of predicted samples with a test metric config.

    Args:
        samples (Sequence[DetDataSample]): With ``pred_instances``,
            ``gt_instances`` and ``ignored_instances``.
        evaluator_cfg (dict): A config's ``test_evaluator`` (one metric that
            takes ``iou_thrs``, e.g. mmrotate's ``DOTAMetric``), built in
            the current default scope.
        classes (Sequence[str]): The data's class names.

    Returns:
        dict: ``mAP50`` and ``mAP75`` (rounded to 3 decimals by the metric).
    """
    from mmengine.evaluator import Evaluator
    evaluator = Evaluator(dict(evaluator_cfg, iou_thrs=[0.5, 0.75]))
    evaluator.dataset_meta = dict(classes=tuple(classes))
    evaluator.process(list(samples))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # the metric's per-class tables
    try:
        with metric_in_threads():
            metrics = evaluator.evaluate(len(samples))
    finally:
        logger.setLevel(level)
    return {
        f'mAP{t}': float(v)
        for key, v in metrics.items()
        for t in (50, 75) if key.endswith(f'AP{t}')
    }


@torch.no_grad()
def predict_all(detector: nn.Module, inputs: Sequence[Tuple[Tensor, list]],
                evaluator_cfg: dict,
                classes: Sequence[str]) -> Dict[str, float]:
    """The detector's ``predict(rescale=True)`` on each input, evaluated.

    Args:
        detector (nn.Module): A single-stage detector in eval mode.
        inputs (Sequence[tuple[Tensor, list]]): ``(B, 3, H, W)`` images and
            their ``B`` labelled samples; the first is also run once untimed
            before (warm-up).
        evaluator_cfg (dict): See :func:`evaluate`.
        classes (Sequence[str]): See :func:`evaluate`.

    Returns:
        dict: ``mAP50``, ``mAP75``, ``s_per_image`` (network and
        post-processing), ``post_s_per_image`` (the head's
        ``predict_by_feat``; bench/cost_inference.py's
        :func:`~bench.cost_inference.staged_predict`) and
        ``detections`` (mean per image).
    """
    # Warm-up, and the staged prediction checked against predict's.
    if not same_as_predict(detector, inputs[0][0], inputs[0][1]):
        raise AssertionError('staged prediction != predict')
    images, total, post, samples = 0, 0.0, 0.0, []
    for image, batch in inputs:
        # predict's results, the network and post-processing timed apart.
        results, network_s, post_s = staged_predict(detector, image, batch)
        for sample, result in zip(batch, results):
            sample.pred_instances = result
        total += network_s + post_s
        post += post_s
        images += len(batch)
        samples += batch
    return dict(
        **evaluate(samples, evaluator_cfg, classes),
        s_per_image=total / images,
        post_s_per_image=post / images,
        detections=sum(len(s.pred_instances) for s in samples) / images)


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
    loader = _loader(
        _config(*configs['teacher']), args.data_root, 'test_dataloader')
    batches = list(loader)  # raw: each detector preprocesses them itself
    classes = loader.dataset.metainfo['classes']
    rows = []
    for role in ROLES:
        config, options = configs[role]
        ckpt = None if args.random else trained_ckpt(SINGLE_STAGE, role,
                                                     args.trained)
        weights[role] = ckpt or 'random'
        cfg = _config(config, options)
        own = cfg.model.test_cfg.nms_pre
        for nms_pre in [None] + args.nms_pre:
            extra = [] if nms_pre is None else [
                f'model.test_cfg.nms_pre={nms_pre}'
            ]
            detector = _detector(config, options + extra, ckpt
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


def write_after(path: str, marker: str, body: str, after: str) -> None:
    """:func:`bench.run.write_section`, but where the markers are missing
    the section goes right after the section headed ``after`` (before the
    next heading of level 1 to 3), or at the end where that is missing."""
    text = open(path).read() if osp.isfile(path) else ''
    if text.count(marker) < 2 and after in text:
        start = text.index(after)
        lines = text[start:].split('\n')
        for i, line in enumerate(lines[1:], 1):
            if line.startswith(('# ', '## ', '### ')):
                end = start + len('\n'.join(lines[:i]))
                text = (
                    text[:end].rstrip('\n') + f'\n\n{marker}\n{marker}\n\n' +
                    text[end:].lstrip('\n'))
                with open(path, 'w') as f:
                    f.write(text)
                break
    write_section(path, marker, body)


def report(args: argparse.Namespace, argv: Sequence[str], rows: List[dict],
           weights: Dict[str, str], seconds: float, load: float) -> str:
    """The section: heading with the command, settings, table."""
    command = shlex.join(['python', 'bench/nms_1024.py', *argv])
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
        '`predict(rescale=True)` (bench/cost_inference.py\'s '
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
