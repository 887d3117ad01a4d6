"""Inference cost of a detector, network and post-processing measured apart.

Used by ``bench/cost.py --inference-1024``.  A detector predicts one image
at a time (batch 1), in stages that together are its own ``predict(...,
rescale=True)`` (bench/inference_stages.py; checked equal on the first
image): network (backbone, neck, heads' forward) and post-processing (score
threshold, top-k, box decoding, NMS).

Inputs are mosaics of the family's own preprocessed test images
(:func:`mosaics`), so that a checkpoint trained at the data's size sees its
objects at their trained scale and the raw detections, whose number sets the
cost of NMS, are those of real scenes.
"""
import logging
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmengine.logging import MMLogger
from torch import Tensor, nn

from bench.cost_common import (DATA_ROOT, build_loader, endless, load_config,
                               pick_device)
from bench.cost_memory import PeakMemory
from bench.inference_stages import (network_gflops, same_as_predict,
                                    staged_predict)


def mosaics(batches: Iterable, preprocess: Callable, size: int,
            count: int) -> List[Tuple[Tensor, DetDataSample]]:
    """``count`` inputs of ``size`` x ``size`` px made of the data's images.

    Each input is an ``n x n`` grid of consecutive preprocessed images
    (``n = max(1, round(size / tile))``, ``tile`` the first image's padded
    side; a 256 px image gives 4 x 4 at 1024 px), resized (bilinear) to
    ``size`` where the grid's side differs.

    Args:
        batches (Iterable): Data loader batches (repeated as needed).
        preprocess (Callable): The detector's data preprocessor.
        size (int): Side of each input in pixels.
        count (int): Number of inputs.

    Returns:
        list[tuple[Tensor, DetDataSample]]: ``(1, 3, size, size)`` inputs
        and their samples (image, pad and batch shapes ``(size, size)``,
        scale factor 1, ``tiles`` ``(n, tile)``).
    """
    tiles: List[Tensor] = []
    per_input = None
    for batch in batches:
        for img in preprocess(batch, False)['inputs']:
            if per_input is None:
                side = max(img.shape[-2:])
                n = max(1, round(size / side))
                per_input = (n, side)
            tiles.append(_square(img, per_input[1]))
        if per_input and len(tiles) >= per_input[0]**2 * count:
            break
    n, side = per_input
    out = []
    for k in range(count):
        grid = tiles[k * n * n:(k + 1) * n * n]
        rows = [torch.cat(grid[r * n:(r + 1) * n], dim=2) for r in range(n)]
        image = torch.cat(rows, dim=1)[None]
        if image.shape[-1] != size:
            image = F.interpolate(
                image, size=(size, size), mode='bilinear', align_corners=False)
        sample = DetDataSample(
            metainfo=dict(
                img_id=k,
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1.0, 1.0),
                tiles=(n, side)))
        out.append((image, sample))
    return out


def _square(img: Tensor, side: int) -> Tensor:
    """``(3, side, side)``: ``img`` cropped or zero-padded (the mean colour
    after normalisation) at its bottom and right."""
    img = img[:, :side, :side]
    return F.pad(img, (0, side - img.shape[2], 0, side - img.shape[1]))


def build_detector(config: str,
                   options: List[str] = (),
                   ckpt: Optional[str] = None,
                   device: str = 'cpu') -> nn.Module:
    """The config's detector in eval mode, with ``ckpt``'s weights (strict,
    weights only) or its own ``init_weights()``."""
    from dkd_mm.distillers.builder import load_teacher_weights
    from dkd_mm.registry import MODELS
    torch.manual_seed(0)
    detector = MODELS.build(load_config(config, options).model)
    if ckpt:
        load_teacher_weights(detector, ckpt)
    else:
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # not every parameter's init
        try:
            detector.init_weights()
        finally:
            logger.setLevel(level)
    return detector.to(device).eval()


def _inputs(detector: nn.Module, size: int, count: int, data_config: str,
            data_options: List[str],
            data_root: str) -> List[Tuple[Tensor, DetDataSample]]:
    """:func:`mosaics` of ``data_config``'s test images on ``data_root``,
    preprocessed by ``detector``'s data preprocessor."""
    loader = build_loader(
        load_config(data_config, data_options), data_root, 'test_dataloader')
    return mosaics(endless(loader), detector.data_preprocessor, size, count)


def measure_inference(config: str,
                      options: List[str] = (),
                      ckpt: Optional[str] = None,
                      size: int = 1024,
                      images: int = 4,
                      data_config: Optional[str] = None,
                      data_options: List[str] = (),
                      data_root: str = DATA_ROOT,
                      warmup: int = 1,
                      device: Optional[str] = None) -> Dict:
    """Per-image inference cost of a detector on ``size`` px mosaics of the
    test images of ``data_config`` (default: ``config``) on ``data_root``.

    The detector has ``ckpt``'s weights, or its own initialisation
    (``init_weights``, as training starts).  The first ``warmup`` images
    are not timed; the first of them also checks that the staged
    prediction equals ``predict`` (raises if not).

    Returns:
        dict: ``params_m``, ``network_s`` and ``post_s`` (mean seconds per
        image), ``detections`` (mean per image), ``peak_mb`` and
        ``growth_mb`` (bench/cost_memory.py, over the timed and warm-up
        images), ``tiles`` (see :func:`mosaics`) and
        :func:`network_gflops`'s values.
    """
    device = pick_device(device)
    detector = build_detector(config, options, ckpt, device)
    inputs = _inputs(detector, size, warmup + images, data_config or config,
                     data_options, data_root)
    # From here on: the forward passes' memory over the built model's
    # (before the FLOP count's trace, whose freed memory stays resident).
    memory = PeakMemory(device)
    memory.start()
    if not same_as_predict(detector, inputs[0][0], [inputs[0][1]]):
        raise AssertionError(f'{config}: staged prediction != predict')
    network, post, detections = [], [], []
    with torch.no_grad():
        for k, (image, sample) in enumerate(inputs):
            results, net_s, post_s = staged_predict(detector, image, [sample])
            if k >= warmup:
                network.append(net_s)
                post.append(post_s)
                detections.append(len(results[0]))
    peak_mb, growth_mb = memory.peak_mb(), memory.growth_mb()
    return dict(
        params_m=sum(p.numel() for p in detector.parameters()) / 1e6,
        **network_gflops(detector, size),
        tiles=inputs[0][1].tiles,
        network_s=sum(network) / images,
        post_s=sum(post) / images,
        detections=sum(detections) / images,
        peak_mb=peak_mb,
        growth_mb=growth_mb)


def time_alternating(models: Dict[str, list],
                     size: int = 1024,
                     images: int = 4,
                     data_config: Optional[str] = None,
                     data_options: List[str] = (),
                     data_root: str = DATA_ROOT,
                     warmup: int = 1,
                     device: Optional[str] = None) -> Dict[str, dict]:
    """Network and post-processing seconds per image of several detectors
    in one process, taking turns on each image (A B, then B A), so that
    other load on the machine slows each of them alike.

    Args:
        models (dict): Name -> ``[config, options, ckpt]``.
        size, images, data_root, warmup, device: As
            :func:`measure_inference`; the inputs are made with the first
            model's data preprocessor (a teacher and its student share
            theirs).
        data_config (str, optional): Whose test images. Defaults to the
            first model's config.
        data_options (list[str]): Its options.

    Returns:
        dict: Name -> ``network_s`` and ``post_s``.
    """
    device = pick_device(device)
    detectors = {
        name: build_detector(config, options, ckpt, device)
        for name, (config, options, ckpt) in models.items()
    }
    names = list(detectors)
    inputs = _inputs(detectors[names[0]], size, warmup + images, data_config
                     or models[names[0]][0], data_options, data_root)
    times = {name: dict(network_s=0.0, post_s=0.0) for name in names}
    with torch.no_grad():
        for k, (image, sample) in enumerate(inputs):
            for name in names if k % 2 == 0 else names[::-1]:
                _, net_s, post_s = staged_predict(detectors[name], image,
                                                  [sample])
                if k >= warmup:
                    times[name]['network_s'] += net_s / images
                    times[name]['post_s'] += post_s / images
    return times
