"""Detect objects on an image of any size and draw them, as mmrotate's
``demo/image_demo.py`` and ``demo/huge_image_demo.py`` (dev-1.x) do.

    python tools/analysis/image_demo.py CONFIG CHECKPOINT IMG \\
        [--out-file OUT] [--device cpu] [--score-thr 0.3] [--palette dota] \\
        [--patch-size 1024 [--patch-gap 200] [--merge-iou-thr 0.1]] \\
        [--cfg-options k=v ...]

CONFIG is a detector's config or a DKD config; CHECKPOINT a DKD run's
checkpoint (its ``student.`` weights are used), a student extracted from one
(tools/model_converters/extract_student.py) or a plain detector checkpoint.
A DKD config runs its student, as ``DKDDistiller.predict`` does, so no
teacher is built or loaded.  The model is mmdet's ``init_detector``'s with
the weights loaded strictly and weights-only; the class names are the
checkpoint's (``meta.dataset_meta``) or else the config's test set's.  The
config's visualizer (mmrotate's ``RotLocalVisualizer`` for rotated boxes,
mmdet's ``DetLocalVisualizer`` for horizontal ones) draws the detections
with a score of at least ``--score-thr`` into OUT, an image of IMG's size
(default ``work_dirs/image_demo/<IMG stem>.png``).

Without ``--patch-size`` the whole image goes through the config's test
pipeline (its Resize included), by ``mmdet.apis.inference_detector``.  With
it, IMG is cut into the windows that tools/data/dota/split.py cuts
(``--patch-size`` px, neighbours overlapping by ``--patch-gap`` px, the last
of a row or column moved back to end at the border, padding where the image
is smaller), each window is detected alone, and the detections are moved to
the full image and merged by per-class rotated NMS at ``--merge-iou-thr``
(``dkd_mm.evaluation.merge_patch_detections``, tools/data/dota/merge.py's
merge).  Each patch goes through the test pipeline too: give the patch size
the model was trained on (1024 for configs/dota/), or set the pipeline's
Resize scale with ``--cfg-options``.
"""
import argparse
import os
import os.path as osp
import time
import warnings
from typing import Callable, List, Optional, Tuple

import cv2
import mmcv
import numpy as np
import torch
from mmcv.transforms import Compose
from mmdet.apis import inference_detector, init_detector
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes
from mmdet.utils import get_test_pipeline_cfg
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import DATASETS, VISUALIZERS
from mmengine.structures import InstanceData
from torch import nn

import dkd_mm  # noqa: F401  (compat shims and registration)
from dkd_mm.distillers.builder import (detector_configs, load_config,
                                       load_detector_weights)
from dkd_mm.evaluation import merge_patch_detections, to_patch_detections
from dkd_mm.utils.checkpoint import is_url
from dkd_mm_data.dota_split import (SplitSettings, crop_window, patch_name,
                                    sliding_windows)

# After dkd_mm: its shims must come before mmrotate.
from mmrotate.structures.bbox import rbox2hbox  # isort: skip

ANNOTATION_STEPS = ('LoadAnnotations', 'ConvertBoxType')
IMAGE_ID = 'image'  # the patch names' image id: one image at a time


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw a detector\'s detections on an image of any size')
    add = parser.add_argument
    add('config', help='detector or DKD config file')
    add('checkpoint', help='DKD, extracted student or detector checkpoint')
    add('img', help='image file')
    add('--out-file', help='drawn image (default: work_dirs/image_demo/)')
    add('--device', help='e.g. cpu, cuda:0 (default: cuda:0 if available)')
    add('--score-thr', type=float, default=0.3, help='draw scores >= this')
    add('--palette',
        help="class colours: 'random', a colour name, or a data set's "
        "(dota, sar, hrsc rotated; coco, voc, citys horizontal); default: "
        "the config's test set's, else the checkpoint's")
    add('--patch-size', type=int, help='detect by patches of this side')
    add('--patch-gap', type=int, default=200, help='overlap of patches')
    add('--merge-iou-thr',
        type=float,
        default=0.1,
        help='IoU of the rotated NMS across patches')
    add('--cfg-options', nargs='+', action=DictAction, help='k=v overrides')
    args = parser.parse_args(argv)
    local = [('config', args.config, '::' not in args.config),
             ('checkpoint', args.checkpoint, not is_url(args.checkpoint)),
             ('image', args.img, True)]
    for what, path, is_file in local:
        if is_file and not osp.isfile(path):
            parser.error(f'{what} file not found: {path}')
    if args.patch_size is not None and not 0 <= args.patch_gap < \
            args.patch_size:
        parser.error('--patch-gap must be >= 0 and below --patch-size')
    return args


def detector_config(path: str,
                    cfg_options: Optional[dict] = None) -> Tuple[Config, str]:
    """The config with ``model`` the detector that predicts, and its role:
    the model itself ('model'), or a DKD config's student ('student', in
    the student's scope)."""
    cfg = load_config(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    role, model, scope = detector_configs(cfg)[0]
    cfg.model = model
    if scope is not None:
        cfg.default_scope = scope
    return cfg, role


def init_model(cfg: Config,
               checkpoint: str,
               device: str,
               palette: Optional[str] = None) -> nn.Module:
    """mmdet's ``init_detector`` with the weights of ``checkpoint`` (a
    distiller's ``student.`` ones, or a detector's) and its class names."""
    # Built without weights (a DKD checkpoint's keys are not the
    # detector's), so it warns that it names COCO's classes, and with a
    # palette so that it does not build the test set: both set below.
    with warnings.catch_warnings(record=True) as caught:
        model = init_detector(cfg, None, 'random', device)
    for warning in caught:
        if 'COCO classes' not in str(warning.message):
            warnings.showwarning(warning.message, warning.category,
                                 warning.filename, warning.lineno)
    meta = load_detector_weights(model, checkpoint)
    dataset = dict(cfg.test_dataloader.dataset, lazy_init=True)
    cfg_meta = DATASETS.build(dataset).metainfo  # its classes and palette
    ckpt_meta = {
        k.lower(): v
        for k, v in (meta.get('dataset_meta') or {}).items()
    }
    model.dataset_meta = dict(
        classes=tuple(ckpt_meta.get('classes') or cfg_meta['classes']),
        palette=palette or cfg_meta.get('palette') or ckpt_meta.get('palette')
        or 'random')
    return model


def test_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline for an array (BGR, as OpenCV reads it),
    without its annotation steps."""
    steps = [
        ConfigDict(step) for step in get_test_pipeline_cfg(cfg)
        if not str(step['type']).endswith(ANNOTATION_STEPS)
    ]
    steps[0].type = 'mmdet.LoadImageFromNDArray'
    return Compose(steps)


def read_image(path: str) -> np.ndarray:
    """``(H, W, 3)`` uint8 BGR; SystemExit if OpenCV cannot read it."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise SystemExit(f'cannot read image {path}: not an image file '
                         'OpenCV decodes (or a truncated one)')
    return img


def patch_windows(width: int, height: int, patch_size: int,
                  patch_gap: int) -> Tuple[SplitSettings, List[list]]:
    """tools/data/dota/split.py's settings and windows ``[x1, y1, x2,
    y2]`` for one patch size."""
    settings = SplitSettings(sizes=(patch_size, ), gaps=(patch_gap, ))
    windows = sliding_windows(width, height, settings.window_sizes(),
                              settings.img_rate_thr)
    return settings, windows.tolist()


def _box_tensor(pred: InstanceData) -> torch.Tensor:
    return getattr(pred.bboxes, 'tensor', pred.bboxes)


def detect_by_patches(model: nn.Module,
                      img: np.ndarray,
                      pipeline: Compose,
                      patch_size: int,
                      patch_gap: int = 200,
                      merge_iou_thr: float = 0.1,
                      log: Callable[[str], None] = print) -> InstanceData:
    """Detect on overlapping patches and merge them to ``img``'s frame.

    Args:
        model (nn.Module): A detector from :func:`init_model`.
        img (np.ndarray): ``(H, W, 3)`` BGR image.
        pipeline (Compose): :func:`test_pipeline`'s.
        patch_size (int): Window side in pixels.
        patch_gap (int): Overlap of neighbouring windows. Defaults to 200.
        merge_iou_thr (float): IoU of the per-class rotated NMS across
            patches. Defaults to 0.1.
        log (Callable): Gets one progress line a patch. Defaults to print.

    Returns:
        InstanceData: ``bboxes`` (of the type the detector gives: rotated
        ``(N, 5)``, horizontal ``(N, 4)``), ``scores`` and ``labels`` in
        the full image's pixels, by descending score.
    """
    height, width = img.shape[:2]
    settings, windows = patch_windows(width, height, patch_size, patch_gap)
    patches = []
    for i, window in enumerate(windows, 1):
        x, y = window[:2]
        pred = inference_detector(
            model, crop_window(img, window, settings),
            test_pipeline=pipeline).pred_instances
        box_type = type(pred.bboxes)  # a tensor or a BaseBoxes
        horizontal = _box_tensor(pred).shape[-1] == 4
        patches.append(
            to_patch_detections(
                dict(
                    img_id=patch_name(IMAGE_ID, patch_size, x, y),
                    pred_instances=pred)))
        log(f'patch {i}/{len(windows)} at x={x} y={y}: '
            f'{len(pred)} detections')
    per_class = merge_patch_detections(patches,
                                       len(model.dataset_meta['classes']),
                                       merge_iou_thr)[IMAGE_ID]
    dets = torch.from_numpy(np.concatenate(per_class))
    labels = torch.cat([
        torch.full((len(d), ), c, dtype=torch.long)
        for c, d in enumerate(per_class)
    ])
    order = torch.argsort(dets[:, 5], descending=True, stable=True)
    boxes = rbox2hbox(dets[order, :5]) if horizontal else dets[order, :5]
    return InstanceData(
        bboxes=box_type(boxes) if issubclass(box_type, BaseBoxes) else boxes,
        scores=dets[order, 5],
        labels=labels[order])


def draw(model: nn.Module, img: np.ndarray, pred: InstanceData, out_file: str,
         score_thr: float) -> None:
    """Draw ``pred`` on ``img`` (BGR) with the config's visualizer."""
    # No storage backend: the image goes to out_file only.
    visualizer = VISUALIZERS.build(
        dict(model.cfg.visualizer, vis_backends=None))
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample(
        'image_demo',
        mmcv.bgr2rgb(img),
        DetDataSample(pred_instances=pred.cpu()),
        draw_gt=False,
        show=False,
        out_file=out_file,
        pred_score_thr=score_thr)


def main(argv: Optional[List[str]] = None) -> InstanceData:
    args = parse_args(argv)
    img = read_image(args.img)
    cfg, role = detector_config(args.config, args.cfg_options)
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    model = init_model(cfg, args.checkpoint, device, args.palette)
    pipeline = test_pipeline(cfg)
    height, width = img.shape[:2]
    whose = 'the student of ' if role == 'student' else ''
    print(
        f'{whose}{args.config} on {device}, a {width}x{height} image',
        flush=True)
    start = time.perf_counter()
    if args.patch_size is None:
        pred = inference_detector(model, img, pipeline).pred_instances
        print(f'detected in {time.perf_counter() - start:.2f} s')
    else:
        pred = detect_by_patches(model, img, pipeline, args.patch_size,
                                 args.patch_gap, args.merge_iou_thr,
                                 lambda line: print(line, flush=True))
        seconds = time.perf_counter() - start
        num = len(
            patch_windows(width, height, args.patch_size, args.patch_gap)[1])
        print(f'detected {num} patches of {args.patch_size} px in '
              f'{seconds:.2f} s ({num / seconds:.2f} patches/s), merged '
              f'at IoU {args.merge_iou_thr}')
    out_file = args.out_file or osp.join(
        'work_dirs', 'image_demo',
        osp.splitext(osp.basename(args.img))[0] + '.png')
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    draw(model, img, pred, out_file, args.score_thr)
    kept = int((pred.scores >= args.score_thr).sum())
    print(f'{kept} detections with score >= {args.score_thr} '
          f'({len(pred)} in all) drawn on {out_file}')
    return pred


if __name__ == '__main__':
    main()
