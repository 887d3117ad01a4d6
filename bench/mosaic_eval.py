"""Detectors evaluated on labelled mosaics (bench/nms_1024.py): test images
tiled into larger inputs with their rotated boxes moved along, predicted by
the stages of bench/inference_stages.py and scored by the config's test
metric.
"""
import contextlib
import importlib
import logging
import multiprocessing.dummy
from typing import Dict, Iterator, List, Sequence, Tuple
from unittest import mock

import torch
from mmdet.structures import DetDataSample
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData
from torch import Tensor, nn

from bench.cost_inference import mosaics
from bench.inference_stages import same_as_predict, staged_predict


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
        ``predict_by_feat``; bench/inference_stages.py's
        :func:`~bench.inference_stages.staged_predict`) and
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
