"""GPU check of dkd_mm: CUDA against CPU, CUDA-only box loss, DKD's cost.

    bash bench/gpu_check.sh [--out FILE] [--teacher-ckpt PATH]
    bash bench/gpu_check.sh --device cpu --checks parity   # CPU smoke run

Needs one CUDA GPU (about 5 minutes on an H100/H200), a CUDA build of
torch and mmcv 2.0.1 whose compiled ops have their CUDA kernels, with
mmengine 0.10.7, mmdet 3.1.0 and mmrotate 1.0.0rc1 as tools/setup_env.sh
installs them (run where nvcc and a CUDA torch are present, it builds
mmcv's ops with CUDA; FORCE_CUDA=1 forces that; an mmcv already installed
is kept, so uninstall a CPU build first). No download: the data is the
embedded synthetic set, written under ``--work-dir``.

Checks, in order, one row each (``check | result | detail | seconds``):

1. ``mmcv ops``: box_iou_rotated, nms_rotated, RoIAlign(Rotated) and
   diff_iou_rotated_2d (upstream's RotatedIoULoss) on a tiny input on the
   GPU. A CPU-only build fails here, saying how to fix it, and the checks
   that need the ops are skipped.
2. ``parity``: every loss of dkd_mm.losses and every function of
   dkd_mm.functional they use, and the instances that ISD takes from the
   student's loss pass (dkd_mm.distillers.samples), values and gradients,
   the same inputs on the CPU and the GPU (bench/gpu_parity_cases.py; the
   tolerances are in bench/gpu_parity.py).
3. ``rotated FCOS``: every configs/rotated_fcos/*.py with mmrotate's
   RotatedIoULoss in place of GWD (``cuda_box_loss_options`` of
   bench/gpu_training.py, what ``--cfg-options`` would change),
   ``--train-steps`` iterations on CUDA through mmengine's Runner on the
   tiny split (128 px, batch 2; DKD with a random teacher and full weights
   from the first step): every logged loss finite, the box loss positive.
4. ``DKD step``: ``bench.cost_step.measure_step`` of the teacher forward,
   the plain student and DKD, with ISD's instances from both detectors'
   predictions and from the student's loss pass (configs/rotated_retinanet/
   dkd_rotated-retinanet_r50-r18_synthetic.py: ResNet-50 teacher,
   ResNet-18 student) on synthetic images of ``--size`` px, batch
   ``--batch-size``; the overhead DKD / (student + teacher forward) and
   the peak GPU memory. With a random teacher ISD finds few candidates, so
   its share is understated: pass a trained teacher with
   ``--teacher-ckpt``.

Without a CUDA device it prints one ``SKIP`` line and exits 0. The table
is printed and, with ``--out``, written to a file; the exit status is 1 if
any check fails.
"""
import argparse
import glob
import os.path as osp
import sys
import time
import traceback
from functools import partial
from typing import Callable, List, NamedTuple, Tuple

import torch

from bench.runs import ROOT

CHECKS = ('parity', 'fcos', 'timing')


class Row(NamedTuple):
    check: str
    result: str  # 'ok', 'FAIL' or 'skip'
    detail: str
    seconds: float


def timed(check: str, run: Callable[[], Tuple[bool, str]]) -> Row:
    """Run one check; an exception fails it (traceback on stderr)."""
    start = time.perf_counter()
    try:
        ok, detail = run()
    except Exception as exc:  # noqa: B902  (reported in the table)
        traceback.print_exc()
        ok, detail = False, f'{type(exc).__name__}: {exc}'.splitlines()[0]
    print(f'[gpu_check] {check}: {"ok" if ok else "FAIL"}', flush=True)
    return Row(check, 'ok' if ok else 'FAIL', detail,
               time.perf_counter() - start)


def format_table(rows: List[Row]) -> str:
    lines = ['| check | result | detail | seconds |', '|---|---|---|---|']
    for row in rows:
        detail = row.detail.replace('|', '/').replace('\n', ' ')[:400]
        lines.append(f'| {row.check} | {row.result} | {detail} | '
                     f'{row.seconds:.1f} |')
    return '\n'.join(lines)


def check_mmcv_ops(device: str) -> Tuple[bool, str]:
    """Each rotated op dkd_mm and mmrotate use, once, on ``device``."""
    import mmcv
    from mmcv import ops
    boxes = torch.tensor([[20., 20., 16., 8., 0.3], [22., 20., 16., 8., 0.1]],
                         device=device)
    feat = torch.rand(1, 4, 16, 16, device=device)
    trials = {
        'box_iou_rotated':
        lambda: ops.box_iou_rotated(boxes, boxes),
        'nms_rotated':
        lambda: ops.nms_rotated(boxes, boxes.new_tensor([0.9, 0.8]), 0.5),
        'RoIAlignRotated':
        lambda: ops.RoIAlignRotated(7, 1.0, 2, clockwise=True)
        (feat, boxes.new_tensor([[0., 8., 8., 6., 4., 0.3]])),
        'RoIAlign':
        lambda: ops.RoIAlign(7, 1.0, 2, aligned=True)
        (feat, boxes.new_tensor([[0., 2., 2., 10., 8.]])),
    }
    if device != 'cpu':  # CUDA-only: upstream's RotatedIoULoss
        trials['diff_iou_rotated_2d'] = lambda: ops.diff_iou_rotated_2d(
            boxes[None], boxes[None])
    failed = {}
    for name, trial in trials.items():
        try:
            trial()
            if device != 'cpu':
                torch.cuda.synchronize()
        except Exception as exc:  # noqa: B902
            failed[name] = str(exc).splitlines()[0][:120]
    version = f'mmcv {mmcv.__version__}: '
    if not failed:
        return True, version + f'{", ".join(trials)} on {device}'
    return False, (
        version + '; '.join(f'{k}: {v}' for k, v in failed.items()) +
        '. Its ops lack the CUDA kernels (a CPU build?): pip uninstall mmcv, '
        'then bash tools/setup_env.sh (DKD_USE_CURRENT_PYTHON=1 for a conda '
        'env) with nvcc on PATH and a CUDA torch; FORCE_CUDA=1 if torch sees '
        'no GPU while building')


def parse_args(argv: List[str] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', choices=('cuda', 'cpu'), default='cuda')
    parser.add_argument('--checks', nargs='+', choices=CHECKS, default=CHECKS)
    parser.add_argument('--out', help='also write the table to this file')
    parser.add_argument('--work-dir', default='work_dirs/gpu_check')
    parser.add_argument('--train-steps', type=int, default=4)
    parser.add_argument('--steps', type=int, default=10, help='timed steps')
    parser.add_argument('--size', type=int, default=1024)
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--teacher-ckpt', help='teacher of the DKD timing')
    parser.add_argument(
        '--student-ckpt', help='plain student loaded into the timed ones')
    args = parser.parse_args(argv)
    if args.device == 'cpu' and set(args.checks) - {'parity'}:
        parser.error('--device cpu runs the parity check only')
    return args


def environment() -> str:
    import mmcv
    text = f'torch {torch.__version__}, mmcv {mmcv.__version__}'
    if torch.cuda.is_available():
        text += (f', CUDA {torch.version.cuda}, '
                 f'{torch.cuda.get_device_name(0)}')
    return text


def synthetic_data(work_dir: str, size: int) -> str:
    """The embedded data at ``size`` px under ``work_dir`` (kept when it
    is there already): the tiny split at 128 px, else 8 images."""
    from dkd_mm.datasets.synthetic import (PRESETS, SyntheticDOTAConfig,
                                           generate_synthetic_dota)
    cfg = PRESETS['tiny'] if size == 128 else SyntheticDOTAConfig(
        num_train=8, num_val=0, img_size=size)
    root = osp.join(work_dir, f'synthetic_dota_{size}')
    generate_synthetic_dota(root, cfg, progress=False)
    return root + '/'


def run_checks(args: argparse.Namespace) -> List[Row]:
    """The table's rows; a check that needs mmcv's ops is skipped when the
    first row failed."""
    work_dir = osp.join(ROOT, args.work_dir)
    rows = [timed('mmcv ops', lambda: check_mmcv_ops(args.device))]
    ops_ok = rows[0].result == 'ok'
    checks = []  # (name, run, needs_ops)
    if 'parity' in args.checks:
        from bench.gpu_parity import run_case
        from bench.gpu_parity_cases import CASES
        checks += [(f'parity: {case.name}',
                    partial(run_case, case, args.device), case.needs_ops)
                   for case in CASES]
    if 'fcos' in args.checks:
        from bench.gpu_training import FCOS_CONFIGS, train_fcos

        def fcos(config: str) -> Tuple[bool, str]:
            data_root = synthetic_data(work_dir, 128)
            return train_fcos(config, data_root, work_dir, args.train_steps)

        checks += [
            (f'rotated FCOS on CUDA: {osp.basename(config)}',
             partial(fcos, config), True)
            for config in sorted(glob.glob(osp.join(ROOT, FCOS_CONFIGS)))
        ]
    if 'timing' in args.checks:
        from bench.gpu_training import time_dkd

        def timing() -> Tuple[bool, str]:
            data_root = synthetic_data(work_dir, args.size)
            return time_dkd(data_root, args.steps, args.size, args.batch_size,
                            args.teacher_ckpt, args.student_ckpt)

        checks.append((f'DKD step at {args.size} px', timing, True))
    for name, run, needs_ops in checks:
        rows.append(
            timed(name, run) if ops_ok or not needs_ops else Row(
                name, 'skip', 'needs the mmcv ops above', 0.0))
    return rows


def main(argv: List[str] = None) -> int:
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        text, status = (
            f'SKIP bench/gpu_check: no CUDA device (torch {torch.__version__}'
            ', torch.cuda.is_available() is False); nothing was checked'), 0
    else:
        import dkd_mm  # noqa: F401  (compat shims before mmrotate)
        start = time.perf_counter()
        rows = run_checks(args)
        failed = [row for row in rows if row.result != 'ok']
        rows.append(
            Row(
                'total', 'FAIL' if failed else 'ok',
                f'{len(rows) - len(failed)} of {len(rows)} checks ok; '
                f'{environment()}',
                time.perf_counter() - start))
        text, status = format_table(rows), int(bool(failed))
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    return status


if __name__ == '__main__':
    sys.exit(main())
