"""What distillation costs: training steps, GD masks, inference.

    python -m bench.cost [--quick] [--teacher-ckpt PATH]
    python -m bench.cost --family {rotated-retinanet,oriented-rcnn,...,all}
    python -m bench.cost --inference-1024 [--family ...] [--trained]

* Training step time and peak memory (each in a fresh subprocess) of the
  student alone, the teacher forward (no grad), DKD, each baseline and
  mmrazor's PKD (where the `bench` extra is installed), on real batches of
  the embedded data (batch 4 at 256 px), for bench/run.py's teacher/student
  pair; the overhead ratio DKD / (student + teacher forward).  Pass the
  trained teacher (bench/run.py's) with ``--teacher-ckpt``: with random
  weights the teacher's raw detections, and so ISD's cost, are not those of
  training.  Pass a trained plain student (``--student-ckpt``, bench/run.py's
  ``student_s0``) as well: its weights are loaded into the student of every
  row, so that ISD judges the predictions of a student that has learnt to
  score, as it does after the warm-up.
* GD foreground masks for 5, 50 and 500 rotated boxes over 5 FPN levels of
  a 1024 px input: dkd_mm's windowed code and the former every-cell test
  against a per-box polygon-fill reference (bench/cost_masks.py), with
  identical masks asserted.
* Inference: parameters, FLOPs and images/s of teacher and student
  (bench/cost_step.py, as the training steps).
* Per family (``--family``, ``--inference-1024``; bench/cost_families.py):
  DKD's training-step overhead and 1024 px inference with network and
  post-processing apart, for each family's benchmark pair of bench/run.py.

Training steps and per-family measurements each run in a fresh
``python -m bench.cost`` process (its hidden ``--one`` and ``--job``
flags).  Without ``--quick`` the tables are written to docs/benchmarks.md
(between ``<!-- bench/cost.py -->`` markers) with the command, machine and
date.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
import sys

import torch

import dkd_mm  # noqa: F401
from bench.cost_common import DATA_ROOT, in_fresh_process
from bench.cost_masks import MASK_ROWS, mask_benchmark
from bench.cost_step import inference, measure_step
from bench.methods import METHODS, available, pair_options
from bench.report import write_section
from bench.runs import ROOT, TEACHER
from bench.scaling import SCALED_SUFFIX


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--teacher-ckpt', default=None)
    parser.add_argument(
        '--student-ckpt',
        default=None,
        help='A trained plain student (bench/run.py\'s student_s0), loaded '
        'into the student of every row')
    parser.add_argument('--steps', type=int, default=8)
    parser.add_argument(
        '--methods',
        nargs='+',
        choices=list(METHODS),
        default=None,
        help='Default: all (the mmrazor row only where mmrazor is installed)')
    parser.add_argument('--out', default='docs/benchmarks.md')
    parser.add_argument(
        '--data-root',
        default=None,
        help='The embedded data (made with tools/data/make_synthetic_dota.py '
        f'--split default where missing). Default: {DATA_ROOT}; with '
        '--family/--inference-1024, the data of each family\'s table '
        '(bench/run.py; the tiny sets with --quick)')
    family = parser.add_argument_group(
        'per family (bench/cost_families.py): the pairs of bench/run.py')
    family.add_argument(
        '--family',
        nargs='+',
        metavar='FAMILY',
        help='Distillation overhead of a training step for these families '
        '(rotated-retinanet, oriented-rcnn, rotated-fcos, retinanet-nwpu, or '
        'all): teacher forward, student, DKD, and the time and memory ratios; '
        'with --inference-1024, the families to measure (default: all, '
        'dota-rotated-retinanet included)')
    family.add_argument(
        '--inference-1024',
        '--inference',
        dest='inference',
        action='store_true',
        help='Teacher and student inference at --size px: network and '
        'post-processing apart, images/s, memory, params, FLOPs')
    family.add_argument('--size', type=int, default=1024)
    family.add_argument(
        '--images', type=int, default=4, help='Images timed per model')
    family.add_argument(
        '--trained',
        nargs='?',
        const='work_dirs',
        metavar='WORK_DIRS',
        help='Load the teacher and student checkpoints that bench/run.py '
        'trained for each family (seed 0, its default settings), found by '
        'their settings hash under WORK_DIRS (default work_dirs); random '
        'weights where there is none')
    family.add_argument(
        '--infer-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='More --cfg-options for every --inference-1024 model alike, '
        'e.g. model.test_cfg.nms_pre=500')
    parser.add_argument(
        '--one', nargs=2, metavar=('METHOD', 'MODE'), help=argparse.SUPPRESS)
    parser.add_argument('--job', help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.job:  # one measurement of bench/cost_families.py
        from bench.cost_inference import measure_inference, time_alternating
        job = json.loads(args.job)
        fn = dict(
            step=measure_step,
            inference=measure_inference,
            alternate=time_alternating)[job.pop('fn')]
        print(json.dumps(fn(**job)))
        return
    if args.family or args.inference:
        from bench.cost_families import run
        args.family = args.family or ['all']
        run(args)
        return
    args.data_root = args.data_root or DATA_ROOT
    steps = 2 if args.quick else args.steps
    if args.one:
        name, mode = args.one
        config = TEACHER if name == 'teacher' else METHODS[name]
        options = [] if name == 'teacher' else pair_options(name)
        print(
            json.dumps(
                measure_step(config, mode, steps, args.teacher_ckpt, options,
                             args.data_root, args.student_ckpt)))
        return
    # A scaled row costs what its published row does (other term weights).
    methods = args.methods or available(
        m for m in METHODS if not m.endswith(SCALED_SUFFIX))
    if not osp.isdir(osp.join(ROOT, args.data_root)):
        subprocess.run([
            sys.executable, 'tools/data/make_synthetic_dota.py', '--out-dir',
            args.data_root, '--split', 'default', '--no-progress'
        ],
                       cwd=ROOT,
                       check=True)
    extra = ['--steps', str(steps), '--data-root', args.data_root] + (
        ['--teacher-ckpt', args.teacher_ckpt] if args.teacher_ckpt else []) + (
            ['--student-ckpt', args.student_ckpt] if args.student_ckpt else [])
    rows = {
        'teacher forward (no grad)':
        in_fresh_process(['--one', 'teacher', 'forward'] + extra)
    }
    for name in dict.fromkeys(['student'] + methods):
        print(f'[cost] {name}', flush=True)
        rows[name] = in_fresh_process(['--one', name, 'train'] + extra)
    base = rows['student']['seconds'] + rows['teacher forward (no grad)'][
        'seconds']
    lines = [
        '| run | step (s) | peak memory (MB) | '
        '/ (student + teacher fwd) |', '|---|---|---|---|'
    ]
    for name, r in rows.items():
        lines.append(f'| {name} | {r["seconds"]:.2f} | {r["peak_mb"]:.0f} | '
                     f'{r["seconds"] / base:.2f} |')
    repeats = 1 if args.quick else 5
    lines += [
        '', f'| GD masks, 5 levels, 1024 px (median of {repeats}) | boxes | '
        'seconds | speed-up vs per-box | identical |', '|---|---|---|---|---|'
    ]
    for num_boxes in (5, 50, 500):
        masks = mask_benchmark(num_boxes, repeats=repeats)
        assert masks['mismatched_cells'] == 0, masks
        assert masks['identical_to_all_cells'], masks
        for label, key, same in MASK_ROWS:
            lines.append(f'| {label} | {num_boxes} | {masks[key]:.4f} | '
                         f'{masks["per_box_s"] / masks[key]:.1f}x | {same} |')
    lines += [
        '', '| model | params (M) | GFLOPs (256 px) | images/s |',
        '|---|---|---|---|'
    ]
    for name, config, options in (('teacher', TEACHER, []),
                                  ('student', METHODS['student'],
                                   pair_options('student'))):
        r = inference(config, 4 if args.quick else 40, options, args.data_root)
        lines.append(f'| {name} | {r["params_m"]:.2f} | {r["gflops"]:.2f} '
                     f'| {r["images_per_s"]:.1f} |')
    table = '\n'.join(lines)
    print(table)
    if not args.quick:
        command = 'python -m bench.cost'
        if args.teacher_ckpt:
            command += f' --teacher-ckpt {args.teacher_ckpt}'
        if args.student_ckpt:
            command += f' --student-ckpt {args.student_ckpt}'
        if args.steps != 8:
            command += f' --steps {args.steps}'
        header = (
            f'## Cost (`{command}`)\n\n'
            f'Date {datetime.date.today()}, {os.cpu_count()} CPU cores '
            f'({platform.processor() or platform.machine()}), torch '
            f'{torch.__version__}; mean of {steps} steps after 2 warm-up '
            f'steps, batch 4 at 256 px, bench/run.py\'s pair.  Peak memory '
            f'is the process\'s maximum resident set size (CPU).\n\n')
        write_section(args.out, '<!-- bench/cost.py -->', header + table)


if __name__ == '__main__':
    main()
