"""Show what a DKD distiller distils on some images, as PNG panels.

    python tools/analysis/vis_distill.py CONFIG [CHECKPOINT]
        (--images IMG ... | --num N) --out-dir DIR [--teacher-ckpt PATH]
        [--scale S] [--isd-scale S] [--train-status PSI]
        [--cfg-options k=v ...]

Per image and FPN level, ``<stem>_P<l>.png``: the image with its GT boxes,
GD's foreground mask, the teacher's spatial attention, the dynamic
background weights, the teacher-student discrepancy and the resulting GD
weight.  Per image, ``<stem>_isd.png``: the teacher's ISD candidates in
green (selected, with weight), red (outlier), amber (the student is as
good) and grey (false positive), the student's detections thin in blue.
The losses' inputs are the distiller's own step context
(``DKDDistiller.distill_context``: features, boxes, and predictions with
its training-time ``pred_cfg``), so the pictures show what training sees.

The distiller is built from CONFIG (its ``default_scope``); CHECKPOINT is a
run checkpoint (student + adapters) and may be left out to look at an
untrained student.  ``--num N`` takes the first N images of the val set
with their annotations; ``--images`` takes files, with their annotations
when the val set holds them, else bare (no GT, the val pipeline without its
annotation steps).  ``--teacher-ckpt none`` keeps a random teacher.
"""
import argparse
import copy
import logging
import os
import os.path as osp
from typing import List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import print_log
from mmengine.registry import DATASETS, MODELS, init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar

import dkd_mm  # noqa: F401  (compat shims and registration)
from dkd_mm.functional import Selection
from dkd_mm.losses import (DynamicGlobalDistillLoss,
                           InstanceSelectionDistillLoss)
from dkd_mm.visualization import isd_panel, level_name, level_panel

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

ANNOTATION_STEPS = ('LoadAnnotations', 'ConvertBoxType')


class Inspection(NamedTuple):
    """What the distiller's losses see on one image."""
    image: np.ndarray  # (H_in, W_in, 3) BGR, the padded network input
    gt_boxes: Optional[torch.Tensor]  # (K, 4|5), None without annotations
    maps: List[dict]  # per level: compute_maps' (H_l, W_l) maps
    level_names: List[str]
    candidates: object  # InstanceData, the teacher's ISD candidates
    selection: Selection
    student_preds: object  # InstanceData


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='distiller config file')
    parser.add_argument('checkpoint', nargs='?', help='run checkpoint')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--images', nargs='+', help='image files')
    source.add_argument('--num', type=int, help='first N val images')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--teacher-ckpt', help="teacher weights ('none': random teacher)")
    parser.add_argument(
        '--scale', type=float, default=1.0, help='panel resize factor')
    parser.add_argument(
        '--isd-scale', type=float, help='ISD panel resize (default: --scale)')
    parser.add_argument(
        '--train-status',
        type=float,
        help='ISD/TSA status psi (default: checkpoint iter / max_iters)')
    parser.add_argument('--device', default=None, help='default: cuda if any')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='k=v overrides')
    return parser.parse_args(argv)


def build_distiller(cfg: Config, checkpoint: Optional[str],
                    device: str) -> Tuple[torch.nn.Module, float]:
    """The distiller in eval mode and the training status of CHECKPOINT."""
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'distill_context'):
        raise TypeError(f'the config builds a {type(model).__name__}, not a '
                        'distiller with a distill_context')
    status = 0.0
    if checkpoint:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        max_iters = cfg.get('train_cfg', {}).get('max_iters')
        done = ckpt.get('meta', {}).get('iter')
        if max_iters and done is not None:
            status = min(max(done / max_iters, 0.0), 1.0)
    return model.to(device).eval(), status


def loss_modules(
    model: torch.nn.Module
) -> Tuple[DynamicGlobalDistillLoss, InstanceSelectionDistillLoss]:
    """The distiller's GD and ISD losses, defaults where it has none."""
    losses = list(getattr(model, 'distill_losses', {}).values())
    global_distill = next(
        (m for m in losses if isinstance(m, DynamicGlobalDistillLoss)),
        DynamicGlobalDistillLoss())
    isd = next(
        (m for m in losses if isinstance(m, InstanceSelectionDistillLoss)),
        InstanceSelectionDistillLoss())
    return global_distill, isd


def load_items(cfg: Config, images: Optional[List[str]],
               num: Optional[int]) -> List[Tuple[str, dict]]:
    """(stem, pipeline output) per image; with GT when the val set has it."""
    dataset_cfg = copy.deepcopy(cfg.val_dataloader.dataset)
    steps = list(dataset_cfg.pipeline)
    bare = [t for t in steps if not _is_annotation_step(t)]
    # Val pipelines load GT after Resize (metrics use the original scale);
    # loaded first, the boxes move with the image into the input frame.
    dataset_cfg.pipeline = bare[:1] + [
        t for t in steps if _is_annotation_step(t)
    ] + bare[1:]
    try:
        dataset = DATASETS.build(dataset_cfg)
    except (FileNotFoundError, OSError) as exc:
        if images is None:
            raise
        print_log(f'no annotations ({exc}); images are shown without GT',
                  'current', logging.WARNING)
        dataset = None
    if images is None:
        indices = range(min(num, len(dataset)))
        return [(_stem(dataset.get_data_info(i)['img_path']), dataset[i])
                for i in indices]
    known = {}
    if dataset is not None:
        known = {
            osp.basename(dataset.get_data_info(i)['img_path']): i
            for i in range(len(dataset))
        }
    bare_pipeline = Compose(bare)
    items = []
    for path in images:
        index = known.get(osp.basename(path))
        data = dataset[index] if index is not None else bare_pipeline(
            dict(img_path=path, img_id=_stem(path)))
        items.append((_stem(path), data))
    return items


@torch.no_grad()
def inspect_image(model: torch.nn.Module,
                  global_distill: DynamicGlobalDistillLoss,
                  isd: InstanceSelectionDistillLoss, data: dict,
                  train_status: float) -> Inspection:
    """Run one image through the distiller as its losses see it: the
    distiller's own step context (``DKDDistiller.distill_context``)."""
    batch = model.data_preprocessor(pseudo_collate([data]), False)
    inputs, samples = batch['inputs'], batch['data_samples']
    gt = samples[0].get('gt_instances')
    has_gt = gt is not None and 'bboxes' in gt  # bare images: no boxes
    if not has_gt:  # no box matches nothing, whatever its kind
        samples[0].gt_instances = InstanceData(
            bboxes=inputs.new_zeros((0, 4)),
            labels=torch.zeros(0, dtype=torch.long, device=inputs.device))
    context = model.distill_context(inputs, samples)
    input_shape = context.batch_input_shape
    maps = global_distill.compute_maps(context.student_feats,
                                       context.teacher_feats,
                                       context.gt_bboxes, input_shape)
    candidates, selection = isd.select(context.teacher_preds,
                                       context.student_preds,
                                       context.gt_bboxes, context.gt_labels,
                                       train_status)
    image = np.zeros(input_shape + (3, ), np.uint8)
    shown = data['inputs'].permute(1, 2, 0).numpy()
    image[:shown.shape[0], :shown.shape[1]] = shown
    return Inspection(
        image=image,
        gt_boxes=context.gt_bboxes[0].cpu() if has_gt else None,
        maps=[{
            k: v[0].cpu()
            for k, v in level.items()
        } for level in maps],
        level_names=[
            level_name(f.shape[-2:], input_shape)
            for f in context.teacher_feats
        ],
        candidates=candidates[0].cpu(),
        selection=selection,
        student_preds=context.student_preds[0].cpu())


def write_panels(result: Inspection,
                 stem: str,
                 out_dir: str,
                 global_distill: DynamicGlobalDistillLoss,
                 scale: float,
                 isd_score_thr: float,
                 train_status: float,
                 isd_scale: Optional[float] = None) -> List[str]:
    """Write ``<stem>_P<l>.png`` per level and ``<stem>_isd.png``."""
    paths = []
    for name, maps in zip(result.level_names, result.maps):
        panel = level_panel(
            result.image,
            maps,
            result.gt_boxes,
            global_distill.alpha,
            global_distill.beta,
            scale=scale)
        paths.append(_write(panel, osp.join(out_dir, f'{stem}_{name}.png')))
    panel, _ = isd_panel(
        result.image,
        result.candidates,
        result.selection,
        result.student_preds,
        result.gt_boxes,
        student_score_thr=isd_score_thr,
        scale=scale if isd_scale is None else isd_scale,
        title=f'ISD psi={train_status:.2f}')
    paths.append(_write(panel, osp.join(out_dir, f'{stem}_isd.png')))
    return paths


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.teacher_ckpt:
        none = args.teacher_ckpt.lower() == 'none'
        cfg.model.teacher_ckpt = None if none else args.teacher_ckpt
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model, status = build_distiller(cfg, args.checkpoint, device)
    if args.train_status is not None:
        status = args.train_status
    global_distill, isd = loss_modules(model)
    items = load_items(cfg, args.images, args.num)
    os.makedirs(args.out_dir, exist_ok=True)
    paths = []
    progress = ProgressBar(len(items))
    for stem, data in items:
        result = inspect_image(model, global_distill, isd, data, status)
        paths += write_panels(result, stem, args.out_dir, global_distill,
                              args.scale, isd.score_thr, status,
                              args.isd_scale)
        progress.update()
    print(f'\nwrote {len(paths)} images to {args.out_dir}')
    return paths


def _is_annotation_step(step: dict) -> bool:
    return str(step['type']).endswith(ANNOTATION_STEPS)


def _stem(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def _write(image: np.ndarray, path: str) -> str:
    if not cv2.imwrite(path, image, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f'could not write {path}')
    return path


if __name__ == '__main__':
    main()
