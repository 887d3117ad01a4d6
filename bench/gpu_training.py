"""The checks of bench/gpu_check.py that train on the GPU: the rotated FCOS
configs with upstream's CUDA-only box loss, and a DKD step's cost."""
import gc
import math
import os.path as osp
import time
from typing import List, Optional, Tuple

import torch

from bench.runs import ROOT

ROTATED_IOU = dict(type='mmrotate.RotatedIoULoss', loss_weight=1.0)
FCOS_CONFIGS = 'configs/rotated_fcos/*.py'
# The timed pair: DKD's configs on the synthetic data (ResNet-50 teacher,
# ResNet-18 student); each row's measure_step mode and more --cfg-options
# (DKD twice: ISD's instances from both detectors' predictions, today's
# default, and from the student's loss pass).
TEACHER = 'configs/rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py'
STUDENT = 'configs/rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'
DKD = 'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py'
LOSS_PASS = ['model.isd_instances=loss_pass']
TIMED = (('teacher forward', TEACHER, 'forward',
          []), ('student', STUDENT, 'train', []), ('DKD', DKD, 'train', []),
         ('DKD, loss-pass ISD', DKD, 'train', LOSS_PASS))

# Rotated FCOS with the CUDA box loss ------------------------------------


def cuda_box_loss_options(cfg) -> dict:
    """Options (``Config.merge_from_dict``, as ``--cfg-options``) that give
    a rotated FCOS config upstream's RotatedIoULoss where it has GWD.

    The head's ``loss_bbox``, or the base loss of its TSA wrapper; for a
    distiller, the student's, and the teacher's (its config file loaded,
    switched the same way and given as a model dict).
    """
    from mmengine.config import Config
    options = {}
    model, prefix = cfg.model, 'model'
    if 'teacher' in model:
        teacher = model.teacher
        teacher = Config.fromfile(teacher) if isinstance(
            teacher, str) else Config(dict(model=teacher))
        teacher.merge_from_dict(cuda_box_loss_options(teacher))
        options['model.teacher'] = dict(teacher.model.to_dict(), _delete_=True)
        model, prefix = model.student, 'model.student'
    key = f'{prefix}.bbox_head.loss_bbox'
    if model.bbox_head.loss_bbox.type.endswith('TSALoss'):
        key += '.base_loss'
    options[key] = dict(ROTATED_IOU, _delete_=True)
    return options


def box_loss_types(model: dict) -> List[str]:
    """Types of every ``loss_bbox`` (and base loss inside it) of a model
    config, teacher included, e.g. ``['TSALoss(RotatedIoULoss)', ...]``."""
    found = []

    def visit(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'loss_bbox' and isinstance(value, dict):
                    name = value['type'].split('.')[-1]
                    if 'base_loss' in value:
                        name += f'({value.base_loss.type.split(".")[-1]})'
                    found.append(name)
                else:
                    visit(value)

    visit(model)
    return found


def fcos_run_cfg(config: str, data_root: str, work_dir: str, steps: int):
    """``config`` switched to the CUDA box loss, to train ``steps``
    iterations on the tiny split (``data_root``), with no validation or
    checkpoint (:func:`dkd_mm.testing.short_run.short_run_cfg`)."""
    from mmengine.config import Config

    from dkd_mm.testing.short_run import short_run_cfg
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cuda_box_loss_options(cfg))
    name = osp.splitext(osp.basename(config))[0]
    short_run_cfg(cfg, data_root, osp.join(work_dir, name), steps)
    cfg.experiment_name = f'gpu_check_{name}_{time.time_ns()}'
    cfg.log_level = 'WARNING'
    return cfg


def train_fcos(config: str, data_root: str, work_dir: str,
               steps: int) -> Tuple[bool, str]:
    """Train ``fcos_run_cfg(...)`` with mmengine's Runner (which puts the
    model on the GPU); every logged loss must be finite at every step, the
    box loss positive."""
    from dkd_mm.testing.short_run import train_losses
    cfg = fcos_run_cfg(config, data_root, work_dir, steps)
    types = box_loss_types(cfg.model)
    if any('GDLoss' in t for t in types):
        return False, f'GWD left in the config: {types}'
    losses, device = train_losses(cfg)
    bad = [k for k, v in losses.items() if not all(map(math.isfinite, v))]
    short = [k for k, v in losses.items() if len(v) != steps]
    ok = (
        device == 'cuda' and not bad and not short
        and min(losses.get('loss_bbox', [0])) > 0)
    detail = (f'box loss {", ".join(types)}; {steps} steps on {device}: '
              f'loss {losses["loss"][-1]:.3f}, loss_bbox '
              f'{losses["loss_bbox"][-1]:.3f}, {len(losses)} loss keys')
    if bad or short:
        detail += f'; not finite: {bad}; not logged each step: {short}'
    return ok, detail


# DKD step timing ----------------------------------------------------------


def size_options(config: str, size: int, batch: int) -> List[str]:
    """``--cfg-options`` that train ``config`` on ``size`` px images."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    options = [
        f'train_dataloader.batch_size={batch}',
        f'train_dataloader.dataset.img_shape=({size},{size})'
    ]
    for i, step in enumerate(cfg.train_dataloader.dataset.pipeline):
        if step.type.endswith('Resize'):
            options.append(f'train_dataloader.dataset.pipeline.{i}.scale='
                           f'({size},{size})')
    return options


def time_dkd(data_root: str,
             steps: int,
             size: int,
             batch: int,
             teacher_ckpt: Optional[str] = None,
             student_ckpt: Optional[str] = None) -> Tuple[bool, str]:
    """Mean step of the teacher forward, the plain student and DKD on the
    GPU (``bench.cost_step.measure_step``), and DKD's overhead.

    Args:
        data_root (str): Synthetic data of ``size`` px images.
        steps (int): Timed steps, after measure_step's 2 warm-up steps.
        size (int): Training resolution.
        batch (int): Images per step.
        teacher_ckpt (str, optional): DKD's teacher. Defaults to None
            (random weights).
        student_ckpt (str, optional): A plain student loaded into the
            trained rows. Defaults to None.

    Returns:
        tuple[bool, str]: Whether every row ran on the GPU with a finite
        time, and the figures.
    """
    from bench.cost_step import measure_step
    rows = {}
    for name, config, mode, extra in TIMED:
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        # On CUDA measure_step places the model, synchronises around each
        # step and reports torch's peak allocation as peak_mb.
        rows[name] = measure_step(
            config,
            mode,
            steps,
            teacher_ckpt if config == DKD else None,
            size_options(config, size, batch) + extra,
            data_root=data_root,
            student_ckpt=student_ckpt if mode == 'train' else None,
            device='cuda')
    teacher, student, dkd, dkd_lp = (rows[name]['seconds']
                                     for name, *_ in TIMED)
    on_gpu = all(r['peak_mb'] > 0 for r in rows.values())
    ok = on_gpu and all(
        math.isfinite(t) and t > 0 for t in (teacher, student, dkd, dkd_lp))
    memory = ' / '.join(f'{r["peak_mb"]:.0f}' for r in rows.values())
    base = student + teacher
    detail = (f'{size} px, batch {batch}, mean of {steps} steps: teacher '
              f'fwd {teacher:.3f} s, student {student:.3f} s, DKD {dkd:.3f} '
              f's, DKD with loss-pass ISD {dkd_lp:.3f} s; DKD / (student + '
              f'teacher fwd) = {dkd / base:.2f}, {dkd_lp / base:.2f} with '
              f'loss-pass ISD; peak GPU memory {memory} MB; teacher ' +
              (teacher_ckpt or 'random (ISD understated; --teacher-ckpt)'))
    if not on_gpu:
        detail = 'measure_step left the model on the CPU; ' + detail
    return ok, detail
