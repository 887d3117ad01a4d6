"""bench/cost.py's per-family tables, each family's benchmark pair:

* ``--family F ...``: what DKD adds to a training step: teacher forward,
  plain student and DKD steps, the time ratio DKD / (student + teacher
  forward) and the memory ratios DKD / student;
* ``--inference-1024 [--family F ...]``: teacher and student at 1024 px,
  network and post-processing apart (bench/cost_inference.py), images/s,
  peak memory, parameters and FLOPs, and the student's network speed-up.

The pairs, their data and checkpoints: bench/cost_pairs.py.  Every
measurement runs in a fresh process (``python -m bench.cost --job``).
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import shlex
import sys
from typing import Dict, Optional

import torch

from bench import runs
from bench.cost_common import in_fresh_process, pick_device
from bench.cost_pairs import (FAMILY_NAMES, INFERENCE_NAMES, ROW_NAMES,
                              bench_data, data_family, pair, trained_ckpt)
from bench.report import write_section

TIME_TARGET = 1.15
# The teacher's share of a DKD step that ISD adds to its features: its head
# and post-NMS predictions at the distiller's pred_cfg (bench/cost.py's
# 'predict' mode; the trained teacher's weights, since the number of
# boxes sets the cost of NMS).
PREDICT_ROW = 'teacher predict (no grad, ISD\'s)'
# DKD's rows: ISD's instances from both detectors' post-NMS predictions and
# from the student's loss pass (DKDDistiller's ``isd_instances``; where the
# heads are of neither kind the distiller it builds falls back to
# predictions, e.g. rotated FCOS's point head).
DKD_ROWS = {
    f'{ROW_NAMES["dkd"]}, ISD from {where}': f'model.isd_instances={value}'
    for where, value in (('predictions', 'predictions'), ('the loss pass',
                                                          'loss_pass'))
}
SPEEDUP_TARGET = 2.5


def run(args: argparse.Namespace) -> None:
    """bench/cost.py's ``--family`` / ``--inference-1024`` modes."""
    names = INFERENCE_NAMES if args.inference else FAMILY_NAMES
    families = names if 'all' in args.family else list(
        dict.fromkeys(args.family))
    unknown = sorted(set(families) - set(names))
    if unknown:
        raise SystemExit(f'--family: {unknown} have no '
                         f'{"inference" if args.inference else "DKD"} pair '
                         f'here; choose from {names}')
    if (args.teacher_ckpt or args.student_ckpt) and len(families) > 1:
        raise SystemExit('--teacher-ckpt/--student-ckpt name one family\'s '
                         'checkpoints: pass one --family (or --trained)')
    for family in families:
        data = bench_data(family)
        root = args.data_root or (data.quick_root if args.quick else data.root)
        if not osp.isdir(osp.join(runs.ROOT, root)):
            log_dir = osp.join(runs.ROOT, 'work_dirs', 'cost')
            os.makedirs(log_dir, exist_ok=True)
            data.make(root, args.quick, log_dir)
        ckpts = checkpoints(args, family)
        load = os.getloadavg()[0]
        if args.inference:
            table = inference_table(args, family, root, ckpts)
            marker = f'<!-- bench/cost.py --inference-1024 {family} -->'
        else:
            table = overhead_table(args, family, root, ckpts)
            marker = f'<!-- bench/cost.py --family {family} -->'
        # Other work on the machine slows every row: say how busy it was.
        table += (f' Load average (1 min) before / after: {load:.1f} / '
                  f'{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.')
        print(table + '\n', flush=True)
        if not args.quick:
            write_section(args.out, marker, table)


def checkpoints(args: argparse.Namespace,
                family: str) -> Dict[str, Optional[str]]:
    """'teacher' and 'student' -> the weights to load (None: random)."""
    ckpts = dict(teacher=args.teacher_ckpt, student=args.student_ckpt)
    if args.trained:
        for role in ckpts:
            ckpts[role] = ckpts[role] or trained_ckpt(family, role,
                                                      args.trained)
    return ckpts


def _job(fn: str, **kwargs) -> dict:
    """``fn`` ('step', 'inference' or 'alternate') in a fresh process."""
    print(f'[cost] {fn} {kwargs.get("config", "")}', flush=True)
    return in_fresh_process(['--job', json.dumps(dict(fn=fn, **kwargs))])


def _header(args: argparse.Namespace, family: str, what: str,
            ckpts: Dict[str, Optional[str]]) -> str:
    command = shlex.join(['python', '-m', 'bench.cost'] + sys.argv[1:])
    weights = ', '.join(f'{role} `{path}`' if path else f'{role} random'
                        for role, path in ckpts.items())
    configs = ', '.join(f'{role} `{config}`'
                        for role, (config, _) in pair(family).items()
                        if role != 'dkd' or not args.inference)
    return (
        f'### {what}, {family} (`{command}`)\n\n'
        f'Date {datetime.date.today()}, {os.cpu_count()} CPU cores '
        f'({platform.processor() or platform.machine()}), torch '
        f'{torch.__version__}, device {pick_device(None)}; {configs}, each '
        f'with its `--cfg-options` of bench/run.py (`pair()`); data '
        f'{bench_data(family).name}; weights: {weights}.\n\n')


def _mb(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.0f}'


def _ratio(num: Optional[float], den: Optional[float]) -> str:
    return '-' if num is None or not den else f'{num / den:.2f}'


def _verdict(name: str, dkd: dict, student: dict, base: float,
             predict_base: float) -> str:
    """The ratios of one DKD row against the time and memory targets."""
    time_ratio = dkd['seconds'] / base
    met = 'met' if time_ratio <= TIME_TARGET else 'MISSED'
    return (
        f'{name}: DKD / (student + teacher forward) = {time_ratio:.2f} '
        f'(target <= {TIME_TARGET}: {met}); DKD / (student + teacher '
        f'predict) = {dkd["seconds"] / predict_base:.2f}; peak RSS DKD '
        f'/ student = {_ratio(dkd["step_peak_mb"], student["step_peak_mb"])}'
        f', growth DKD / student = '
        f'{_ratio(dkd["growth_mb"], student["growth_mb"])}.')


def overhead_table(args: argparse.Namespace, family: str, root: str,
                   ckpts: Dict[str, Optional[str]]) -> str:
    """Teacher forward, student and DKD steps of ``family`` and the
    ratios, as a markdown section."""
    steps, warmup = (1, 1) if args.quick else (args.steps, 2)
    configs = pair(family)
    common = dict(
        steps=steps, data_root=root, warmup=warmup, memory_detail=True)
    rows = {
        'teacher forward (no grad)':
        _job('step', config=configs['teacher'][0], mode='forward',
             teacher_ckpt=None, options=configs['teacher'][1], **common),
        PREDICT_ROW:
        _job('step', config=configs['teacher'][0], mode='predict',
             teacher_ckpt=None, options=configs['teacher'][1],
             student_ckpt=ckpts['teacher'], **common),
        'student':
        _job('step', config=configs['student'][0], mode='train',
             teacher_ckpt=None, options=configs['student'][1],
             student_ckpt=ckpts['student'], **common),
        **{name: _job('step', config=configs['dkd'][0], mode='train',
                      teacher_ckpt=ckpts['teacher'],
                      options=configs['dkd'][1] + [option],
                      student_ckpt=ckpts['student'], **common)
           for name, option in DKD_ROWS.items()},
    }  # yapf: disable
    base = rows['student']['seconds'] + rows['teacher forward (no grad)'][
        'seconds']
    student = rows['student']
    lines = [
        '| run | step (s) | / (student + teacher fwd) | peak RSS of the '
        'steps (MB) | / student\'s | growth over the built model (MB) | '
        '/ student\'s |', '|---|---|---|---|---|---|---|'
    ]
    for name, r in rows.items():
        lines.append(
            f'| {name} | {r["seconds"]:.3f} | {r["seconds"] / base:.2f} | '
            f'{_mb(r["step_peak_mb"])} | '
            f'{_ratio(r["step_peak_mb"], student["step_peak_mb"])} | '
            f'{_mb(r["growth_mb"])} | '
            f'{_ratio(r["growth_mb"], student["growth_mb"])} |')
    verdict = ' '.join(
        _verdict(name, rows[name], student, base, student['seconds'] +
                 rows[PREDICT_ROW]['seconds']) for name in DKD_ROWS)
    note = (f'Mean of {steps} steps after {warmup} untimed, each row in a '
            'fresh process, the same training batches of the data (batch 4 '
            'at 256 px, seeded). Teacher forward: backbone and neck (what '
            'feature distillation needs); teacher predict: that plus the '
            'head and post-NMS predictions at the distiller\'s `pred_cfg`, '
            'which ISD also takes from the teacher. The time ratios divide '
            'by the student step plus one of them. Peak RSS: the resident '
            'set\'s high-water mark over '
            'the warm-up and timed steps, reset after the model, data loader '
            'and optimizer were built (on CPU it holds the libraries and '
            'both models\' weights); growth: that peak minus the resident '
            'set right before the first step (activations, gradients, '
            'allocator caches). On a GPU both are torch\'s allocations '
            '(`max_memory_allocated`). Random weights: PyTorch\'s default '
            'initialisation of the built modules.\n\n')
    return (_header(args, family, 'Distillation overhead', ckpts) + note +
            '\n'.join(lines) + '\n\n' + verdict)


def inference_table(args: argparse.Namespace, family: str, root: str,
                    ckpts: Dict[str, Optional[str]]) -> str:
    """Teacher and student inference of ``family`` at ``args.size`` px, as
    a markdown section."""
    images = 1 if args.quick else args.images
    configs = pair(family)
    data_config, data_options = pair(data_family(family))['teacher']
    data = dict(
        size=args.size,
        data_config=data_config,
        data_options=data_options,
        data_root=root)
    models = {
        role: [
            configs[role][0], configs[role][1] + list(args.infer_options),
            ckpts[role]
        ]
        for role in ('teacher', 'student')
    }
    # Memory, FLOPs and detections: each model alone in a process (one
    # image after the check); times: both in one process, in turns.
    rows = {
        role:
        _job(
            'inference',
            config=config,
            options=options,
            ckpt=ckpt,
            images=1,
            **data)
        for role, (config, options, ckpt) in models.items()
    }
    times = _job('alternate', models=models, images=images, **data)
    for role, row in rows.items():
        row.update(times[role])
    size = args.size
    lines = [
        f'| model | weights | params (M) | GFLOPs ({size} px) | backbone '
        'share | network '
        '(s / image) | post-processing (s / image) | images/s, network | '
        'images/s, all | detections / image | peak RSS (MB) | growth (MB) |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for role, r in rows.items():
        total = r['network_s'] + r['post_s']
        lines.append(f'| {role} | {"trained" if ckpts[role] else "random"} | '
                     f'{r["params_m"]:.2f} | {r["gflops"]:.2f} | '
                     f'{r["backbone_gflops"] / r["gflops"]:.0%} | '
                     f'{r["network_s"]:.3f} | {r["post_s"]:.3f} | '
                     f'{1 / r["network_s"]:.2f} | {1 / total:.2f} | '
                     f'{r["detections"]:.0f} | {_mb(r["peak_mb"])} | '
                     f'{_mb(r["growth_mb"])} |')
    speedup = rows['teacher']['network_s'] / rows['student']['network_s']
    post_share = ', '.join(
        f'{role} {r["post_s"] / (r["network_s"] + r["post_s"]):.0%}'
        for role, r in rows.items())
    verdict = (f'Student network speed-up (teacher network time / '
               f'student\'s) = {speedup:.2f}x (target >= {SPEEDUP_TARGET}x: '
               f'{"met" if speedup >= SPEEDUP_TARGET else "MISSED"}); '
               f'post-processing share of the time: {post_share}.')
    rois = rows['teacher']['rois']
    grid, tile = rows['teacher']['tiles']
    resized = f', resized to {size} px' if grid * tile != size else ''
    note = (
        f'One image at a time (batch 1). Times: mean of {images} images '
        f'after one untimed, teacher and student in one process taking '
        f'turns on each image (teacher first, then student first), so that '
        f'other load on the machine slows both alike. Parameters, FLOPs, '
        f'detections and memory: each model alone in a fresh process, on '
        f'one image after one that checks that the stages give the '
        f'detector\'s own `predict(rescale=True)` results. Inputs: '
        f'{size} px mosaics of the data\'s preprocessed test images '
        f'({grid} x {grid} tiles of {tile} px{resized}), so that objects '
        f'keep the size the checkpoints were trained at. Network: backbone '
        f'+ neck + dense '
        f'head' + (' (RPN head), plus the RoI head\'s forward on the '
                   'proposals' if rois else '') +
        '; post-processing: the heads\' `predict_by_feat` (score threshold, '
        'top-k, decoding, NMS)' + (', proposal NMS included' if rois else '') +
        '. GFLOPs: '
        'mmengine\'s FlopAnalyzer (one multiply-add = 1) of the network' +
        (f', the RoI box head counted on {rois} proposals (RPN '
         '`max_per_img`), RoI feature extraction not counted' if rois else '')
        + '. Peak RSS / growth: as in the overhead tables, over those two '
        'images. Random weights: the detector\'s own '
        '`init_weights()` (as training starts: classification biases at '
        'the prior probability, so few boxes pass the score threshold and '
        'post-processing is near its minimum); trained: bench/run.py\'s '
        'checkpoints.' + (f' Extra options: `{" ".join(args.infer_options)}`.'
                          if args.infer_options else '') + '\n\n')
    return (_header(args, family, f'Inference at {size} px', ckpts) + note +
            '\n'.join(lines) + '\n\n' + verdict)
