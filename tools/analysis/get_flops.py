"""Parameters and FLOPs of detectors, as mmdet's/mmrotate's get_flops.py.

    python tools/analysis/get_flops.py CONFIG [CONFIG ...] \\
        [--shape 1024 [1024]] [--size-divisor 32] [--cfg-options k=v ...]

For a ``DKDDistiller`` config the student and the teacher are reported
separately (the distiller's adapters are training-only).  The input is one
``(3, H, W)`` image, padded to ``--size-divisor`` as the data preprocessor
pads; the forward is the detector's ``mode='tensor'`` path (backbone, neck,
head), so post-processing (NMS) is not counted.  Counted by
``mmengine.analysis`` (fvcore-style: one fused multiply-add is one FLOP);
ops it does not know are skipped and listed in its warnings.
"""
import argparse
import math
import os.path as osp
from functools import partial
from typing import List, Optional, Tuple

import torch
from mmdet.structures import DetDataSample
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction
from torch import nn

import dkd_mm  # noqa: F401  (compat shims and registration)
from dkd_mm.distillers.builder import build_model, detector_configs


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Detector params, FLOPs')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[1024, 1024],
        help='input size: H W, or one size for both')
    parser.add_argument(
        '--size-divisor',
        type=int,
        default=32,
        help='pad H and W to a multiple of it; -1: no padding')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2):
        parser.error('--shape takes 1 or 2 values')
    return args


def padded_shape(shape: List[int], divisor: int) -> Tuple[int, int]:
    """``(H, W)`` of ``--shape``, padded up to ``divisor``."""
    h, w = (shape * 2)[:2]
    if divisor > 0:
        h, w = (math.ceil(v / divisor) * divisor for v in (h, w))
    return h, w


def complexity(model: nn.Module, hw: Tuple[int, int]) -> dict:
    """FLOPs and parameters of one forward of ``model`` on an ``hw`` image.

    Returns:
        dict: ``flops`` and ``params`` (ints) as mmengine counts them.
    """
    h, w = hw
    meta = dict(
        img_shape=(h, w),
        ori_shape=(h, w),
        pad_shape=(h, w),
        batch_input_shape=(h, w),
        scale_factor=(1.0, 1.0))
    samples = [DetDataSample(metainfo=meta)]
    model.eval()
    forward = model.forward
    model.forward = partial(forward, data_samples=samples, mode='tensor')
    try:
        with torch.no_grad():
            out = get_model_complexity_info(
                model,
                inputs=(torch.rand(1, 3, h, w), ),
                show_table=False,
                show_arch=False)
    finally:
        model.forward = forward
    return dict(flops=int(out['flops']), params=int(out['params']))


def format_count(count: int) -> str:
    """``count`` with a K/M/G/T suffix and at most three decimals, e.g.
    ``1.234G`` (counts below 1000 as they are)."""
    for suffix, scale in (('T', 1e12), ('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if abs(count) >= scale:
            return f'{count / scale:.3f}'.rstrip('0').rstrip('.') + suffix
    return str(count)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    hw = padded_shape(args.shape, args.size_divisor)
    rows = []
    for path in args.configs:
        cfg = Config.fromfile(path)
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        for role, model_cfg, scope in detector_configs(cfg):
            model = build_model(model_cfg, scope)
            result = complexity(model, hw)
            rows.append((osp.basename(path), role, result))
    line = '=' * 72
    asked = tuple((args.shape * 2)[:2])
    padded = f' (padded from {asked})' if asked != hw else ''
    print(f'{line}\nInput shape: (3, {hw[0]}, {hw[1]}){padded}')
    for name, role, result in rows:
        print(f'{name} [{role}]: Flops: {format_count(result["flops"])} '
              f'Params: {format_count(result["params"])}')
    print(f'{line}\nFLOPs count the backbone, neck and head (no NMS); '
          'check unsupported-op warnings before quoting them.')


if __name__ == '__main__':
    main()
