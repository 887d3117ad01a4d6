"""Inference cost of a detector, network and post-processing measured apart.

Used by ``bench/cost.py --inference-1024``.  A detector predicts one image
at a time (batch 1), in stages that together are its own ``predict(...,
rescale=True)`` (:func:`staged_predict`; checked equal on the first image):

* network: backbone + neck + dense head forward; for a two-stage detector
  also the RPN head forward and the RoI head's forward on the proposals
  (RoI feature extraction and its fully connected layers);
* post-processing: the heads' ``predict_by_feat``: score threshold, top-k,
  box decoding and NMS (for a two-stage detector: proposal NMS and the final
  NMS).

Inputs are mosaics of the family's own preprocessed test images
(:func:`mosaics`), so that a checkpoint trained at the data's size sees its
objects at their trained scale and the raw detections, whose number sets the
cost of NMS, are those of real scenes.
"""
import copy
import logging
import time
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmengine.logging import MMLogger
from torch import Tensor, nn

from bench.cost import DATA_ROOT, _config, _device, _endless, _loader
from bench.cost_memory import PeakMemory
from dkd_mm.functional import box_tensor


def is_two_stage(detector: nn.Module) -> bool:
    """Whether the detector has an RPN and an RoI head."""
    return bool(
        getattr(detector, 'with_rpn', False)
        and getattr(detector, 'with_roi_head', False))


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


class _Clock:
    """Seconds since an arbitrary start, after the device's queued work."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'

    def __call__(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()


@torch.no_grad()
def staged_predict(
        detector: nn.Module, inputs: Tensor,
        data_samples: List[DetDataSample]) -> Tuple[list, float, float]:
    """The detector's ``predict(..., rescale=True)`` results, with the
    seconds of the network and of post-processing apart.

    Args:
        detector (nn.Module): An mmdet/mmrotate single-stage, anchor-free or
            two-stage (RPN + bbox-only RoI head) detector in eval mode.
        inputs (Tensor): ``(N, 3, H, W)`` preprocessed images.
        data_samples (list[DetDataSample]): Their samples.

    Returns:
        tuple: ``results`` (list[InstanceData], per image ``bboxes``,
        ``scores``, ``labels``), ``network_s`` and ``post_s`` (float).
    """
    from mmdet.models.utils import empty_instances
    from mmdet.structures.bbox import bbox2roi
    clock = _Clock(inputs.device)
    metas = [s.metainfo for s in data_samples]
    start = clock()
    feats = detector.extract_feat(inputs)
    if not is_two_stage(detector):
        outs = detector.bbox_head(feats)
        network = clock()
        results = detector.bbox_head.predict_by_feat(
            *outs, batch_img_metas=metas, rescale=True)
        return results, network - start, clock() - network
    roi_head = detector.roi_head
    if roi_head.with_mask:
        raise NotImplementedError('staged_predict: RoI heads with a mask '
                                  'branch are not measured')
    rpn_outs = detector.rpn_head(feats)
    t_rpn = clock()
    proposals = detector.rpn_head.predict_by_feat(
        *rpn_outs, batch_img_metas=metas, rescale=False)
    t_proposals = clock()
    rois = bbox2roi([p.bboxes for p in proposals])
    if rois.shape[0] == 0:
        results = empty_instances(
            metas,
            rois.device,
            task_type='bbox',
            box_type=roi_head.bbox_head.predict_box_type,
            num_classes=roi_head.bbox_head.num_classes)
        t_roi = t_end = clock()
    else:
        roi_outs = roi_head._bbox_forward(feats, rois)
        t_roi = clock()
        counts = tuple(len(p) for p in proposals)
        results = roi_head.bbox_head.predict_by_feat(
            rois=rois.split(counts),
            cls_scores=roi_outs['cls_score'].split(counts),
            bbox_preds=roi_outs['bbox_pred'].split(counts),
            batch_img_metas=metas,
            rcnn_test_cfg=roi_head.test_cfg,
            rescale=True)
        t_end = clock()
    network = (t_rpn - start) + (t_roi - t_proposals)
    post = (t_proposals - t_rpn) + (t_end - t_roi)
    return results, network, post


@torch.no_grad()
def same_as_predict(detector: nn.Module, inputs: Tensor,
                    data_samples: List[DetDataSample]) -> bool:
    """Whether :func:`staged_predict` gives the detector's own
    ``predict(..., rescale=True)`` boxes, scores and labels."""
    staged, _, _ = staged_predict(detector, inputs, data_samples)
    own = detector.predict(inputs, copy.deepcopy(data_samples), rescale=True)
    for mine, theirs in zip(staged, own):
        theirs = theirs.pred_instances
        if len(mine) != len(theirs) or not torch.equal(mine.labels,
                                                       theirs.labels):
            return False
        if not (torch.allclose(mine.scores, theirs.scores) and torch.allclose(
                box_tensor(mine.bboxes), box_tensor(theirs.bboxes))):
            return False
    return True


class _Network(nn.Module):
    """Backbone, neck and the first head (dense or RPN) as one module."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, inputs: Tensor) -> tuple:
        feats = self.detector.extract_feat(inputs)
        head = (
            self.detector.rpn_head
            if is_two_stage(self.detector) else self.detector.bbox_head)
        return head(feats)


def network_gflops(detector: nn.Module, size: int) -> Dict[str, float]:
    """Giga multiply-adds of the network on one ``size`` px input.

    Counted by mmengine's ``FlopAnalyzer`` (one multiply-add = one FLOP, as
    ``get_model_complexity_info``): backbone, neck and dense or RPN head;
    for a two-stage detector also the RoI box head's layers on the RPN's
    ``max_per_img`` proposals (RoI feature extraction itself is not
    counted).

    Returns:
        dict: ``gflops`` (all), ``backbone_gflops`` (its share) and
        ``rois``, the proposals counted (0 for a single-stage detector).
    """
    from mmengine.analysis import FlopAnalyzer
    param = next(detector.parameters())
    inputs = torch.zeros(1, 3, size, size, device=param.device)

    def analyse(module: nn.Module, args: tuple) -> FlopAnalyzer:
        analyzer = FlopAnalyzer(module, args)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        analyzer.tracer_warnings('none')
        return analyzer

    network = analyse(_Network(detector).eval(), (inputs, ))
    flops = network.total()
    rois = 0
    if is_two_stage(detector):
        rois = int(detector.test_cfg.rpn.max_per_img)
        extractor = detector.roi_head.bbox_roi_extractor
        out_size = extractor.roi_layers[0].output_size
        feats = torch.zeros(rois, extractor.out_channels, *out_size).to(inputs)
        flops += analyse(detector.roi_head.bbox_head.eval(), (feats, )).total()
    return dict(
        gflops=flops / 1e9,
        backbone_gflops=network.total('detector.backbone') / 1e9,
        rois=rois)


def _detector(config: str,
              options: List[str] = (),
              ckpt: Optional[str] = None,
              device: str = 'cpu') -> nn.Module:
    """The config's detector in eval mode, with ``ckpt``'s weights (strict,
    weights only) or its own ``init_weights()``."""
    from dkd_mm.distillers.builder import load_teacher_weights
    from dkd_mm.registry import MODELS
    torch.manual_seed(0)
    detector = MODELS.build(_config(config, options).model)
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
    loader = _loader(
        _config(data_config, data_options), data_root, 'test_dataloader')
    return mosaics(_endless(loader), detector.data_preprocessor, size, count)


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
    device = _device(device)
    detector = _detector(config, options, ckpt, device)
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
    device = _device(device)
    detectors = {
        name: _detector(config, options, ckpt, device)
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
