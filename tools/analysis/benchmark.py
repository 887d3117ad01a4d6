"""Inference speed (images/s) of detectors, a simplified version of mmdet's
tools/analysis_tools/benchmark.py (its ``--task inference``).

    python tools/analysis/benchmark.py CONFIG [CHECKPOINT] \\
        [--num-images 200] [--num-warmup 5] [--cfg-options k=v ...]

The images come from the config's ``test_dataloader`` (batch size 1,
cycled if it has fewer).  Each is timed through ``model.test_step`` (data
preprocessing, forward and post-processing with NMS) after ``--num-warmup``
untimed images; CUDA is synchronised around each step when the model is on
a GPU.  For a ``DKDDistiller`` config the student and the teacher are timed
separately; the checkpoint (a distiller's, or a student's from
extract_student.py) goes to the student, ``model.teacher_ckpt`` to the
teacher when it exists.  Without weights the speed is that of a randomly
initialised model (``init_weights``: RetinaNet's classifier starts at a
0.01 prior, so few boxes reach NMS), which may differ from a trained one's.
"""
import argparse
import itertools
import os.path as osp
import time
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch import nn

import dkd_mm  # noqa: F401  (compat shims and registration)
from dkd_mm.distillers.builder import (build_model, detector_configs,
                                       load_teacher_weights)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Inference images/s')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--num-images', type=int, default=200)
    parser.add_argument('--num-warmup', type=int, default=5)
    parser.add_argument(
        '--device',
        default=None,
        help="'cpu' or 'cuda' (default: cuda if available)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def images_per_second(model: nn.Module, loader, num_images: int,
                      num_warmup: int) -> float:
    """Time ``model.test_step`` on ``num_images`` batches of one image
    after ``num_warmup`` untimed ones."""
    model.eval()
    on_cuda = next(model.parameters()).is_cuda
    batches = itertools.cycle(loader)
    elapsed = 0.0
    with torch.no_grad():
        for i in range(num_warmup + num_images):
            data = next(batches)
            if on_cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            model.test_step(data)
            if on_cuda:
                torch.cuda.synchronize()
            if i >= num_warmup:
                elapsed += time.perf_counter() - start
    return num_images / elapsed


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    # init_weights logs every parameter at INFO: keep warnings only
    MMLogger.get_instance('benchmark', log_level='WARNING')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrotate'))
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(batch_size=1)
    loader = Runner.build_dataloader(loader_cfg)
    results = []
    for role, model_cfg, scope in detector_configs(cfg):
        model = build_model(model_cfg, scope)
        ckpt = args.checkpoint
        if role == 'teacher':  # its weights are optional for a timing
            ckpt = cfg.model.get('teacher_ckpt')
            ckpt = ckpt if ckpt and osp.isfile(ckpt) else None
        if ckpt:
            load_teacher_weights(model, ckpt)  # strict; strips student.
        else:  # the heads' prior-probability bias: few boxes reach NMS
            model.init_weights()
        model = model.to(device)
        speed = images_per_second(model, loader, args.num_images,
                                  args.num_warmup)
        weights = ckpt or 'random init'
        results.append(f'{role}: {speed:.2f} images/s ({weights})')
    print(f'\n{osp.basename(args.config)} on {device}, '
          f'{args.num_images} images after {args.num_warmup} warm-up:')
    print('\n'.join(results))


if __name__ == '__main__':
    main()
