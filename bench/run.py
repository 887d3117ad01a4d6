"""Accuracy of DKD against its peers, held out and paired.

    python -m bench.run          # single-stage table -> docs/benchmarks.md
    python -m bench.run --quick  # minutes: tiny data, a few iterations
    python -m bench.run --pair {oriented-rcnn,rotated-fcos,retinanet-nwpu}

The harness (docs/benchmarks.md, "How the tables are made"): the teacher is
trained once; then, with the same student, schedule, gradient clipping and
warm-up hook, the plain student, TSA alone, each published baseline twice
(at its authors' weights, and scaled by bench/scaling.py's one rule), DKD
and its ablations.  Every run is tested on the data's `test` split and on
`val`; choices (which baselines get three seeds) are made on `val` only.
Seed s fixes the data order and the student's initialisation in every row,
so rows are compared seed by seed.  A run is cached under the hash of its
config, options and the package's source: a table never mixes code
versions, and its header names the commit.  ``--pair``: a shorter table of
another family (teacher, plain student, DKD).  The methods, pairs and seed
plan: bench/methods.py.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import sys
import time
from typing import List, Sequence

from bench import convergence, ledger, runs, scaling
from bench.data import SYNTHETIC_DOTA, BenchData
from bench.methods import (CALIBRATION_BATCHES, FAMILIES, METHODS, PAIR_DATA,
                           RAZOR, SHARED_TEACHER, available, row_options,
                           seed_count, strongest)
from bench.report import format_table, paired_table, write_report
from bench.rows import evaluate, row_metrics, train
from bench.runs import STUDENT, STUDENT_WIDTH, TEACHER


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--work-dir', default='work_dirs/bench')
    parser.add_argument(
        '--data-root',
        default=None,
        help='Where the data is made (default: data/synthetic_dota, '
        'data/synthetic_dota_tiny with --quick; data/nwpu_bench[_tiny] for '
        '--pair retinanet-nwpu)')
    parser.add_argument(
        '--pair',
        default='rotated-retinanet',
        choices=['rotated-retinanet'] + list(FAMILIES),
        help='rotated-retinanet: the full single-stage table; the others: '
        'plain student and DKD of that family, shorter schedule')
    parser.add_argument(
        '--teacher-iters',
        type=int,
        help='Default: 800 (--pair families: 400)')
    parser.add_argument(
        '--teacher-val-interval',
        type=int,
        help='Validate the teacher every N iterations while it trains, to '
        'see it converge (its val mAP50 flat over the last quarter: '
        'bench/convergence.py). Default: once, after training')
    parser.add_argument(
        '--student-iters',
        type=int,
        help='Default: 400 (--pair families: 200)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        help='Default: 0 1 2 (--pair families: 0); each method takes as '
        'many of them as SEED_COUNTS gives it (1 where unlisted)')
    parser.add_argument(
        '--methods',
        nargs='+',
        default=None,
        help=f'Some of {list(METHODS)}. Default: all (the mmrazor row only '
        'where mmrazor is installed; for --pair families: student and DKD)')
    parser.add_argument(
        '--distill-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='More --cfg-options for every row of dkd_mm\'s distiller (not '
        'the teacher, the plain students or mmrazor\'s), e.g. '
        'model.isd_instances=loss_pass; part of the runs\' cache key')
    parser.add_argument(
        '--cached-only',
        action='store_true',
        help='Train nothing: table the runs already trained with these '
        'settings (the teacher must be) or recorded in '
        'bench/ledger_entries/, leaving the others out')
    parser.add_argument(
        '--out',
        default='docs/benchmarks.md',
        help='Markdown file the tables are written to (full runs only)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    data = PAIR_DATA.get(args.pair, SYNTHETIC_DOTA)
    data_root = args.data_root or (data.quick_root
                                   if args.quick else data.root)
    if args.quick:
        args.work_dir += '_quick'
    family = args.pair != 'rotated-retinanet'
    if family:
        teacher_cfg = FAMILIES[args.pair]['teacher']
        methods = {
            'student': FAMILIES[args.pair]['student'],
            'dkd (GD+ISD+TSA)': FAMILIES[args.pair]['dkd'],
        }
        teacher_dir = (
            f'{args.work_dir}_{SHARED_TEACHER.get(args.pair, args.pair)}')
        args.work_dir += '_' + args.pair
    else:
        teacher_cfg, methods = TEACHER, METHODS
        teacher_dir = args.work_dir
    if args.teacher_iters is None:
        args.teacher_iters = 400 if family else 800
    if args.student_iters is None:
        args.student_iters = 200 if family else 400
    if args.seeds is None:
        args.seeds = [0] if family else [0, 1, 2]
    if args.quick:
        args.teacher_iters, args.student_iters, args.seeds = 4, 2, [0]
    if args.methods is None:
        args.methods = available(methods)
        if not family and RAZOR[0] not in args.methods:
            print(
                'mmrazor is not installed (pip install -e .[bench]): '
                'its row is skipped',
                flush=True)
    unknown = set(args.methods) - set(methods)
    if unknown:
        raise SystemExit(f'--methods: unknown {sorted(unknown)} for --pair '
                         f'{args.pair}; choose from {list(methods)}')
    start = time.time()
    os.makedirs(args.work_dir, exist_ok=True)
    data.make(data_root, args.quick, args.work_dir)
    extra = row_options(args.pair, 'teacher')
    teacher_train = list(extra)
    if args.teacher_val_interval:
        teacher_train += [
            f'train_cfg.val_interval={args.teacher_val_interval}',
            f'train_cfg.val_begin={args.teacher_val_interval}'
        ]
    teacher = train('teacher', teacher_cfg, args.teacher_iters, 0, teacher_dir,
                    data_root, teacher_train, teacher_cfg, args.cached_only)
    if teacher is None:
        raise SystemExit('--cached-only: the teacher of these settings is '
                         'not trained yet; run without --cached-only first')
    results = {
        'teacher':
        [dict(evaluate(teacher_cfg, teacher, data, data_root, extra), seed=0)]
    }
    # Every row of the table is keyed to this teacher's weights (for a
    # plain student too: the digest stands for the CPU's kernels, so that a
    # table never mixes machines that train different teachers).
    digest = None if args.quick else ledger.weights_digest(teacher)
    options = {
        name:
        row_options(args.pair,
                    name.split(scaling.SCALED_SUFFIX)[0], teacher,
                    args.distill_options)
        for name in methods
    }
    scaling.scale_rows(methods, args.methods, options, args.work_dir,
                       data_root, 1 if args.quick else CALIBRATION_BATCHES)

    def run_seeds(name: str, seeds: Sequence[int]) -> None:
        for seed in seeds:
            metrics = row_metrics(name, methods[name], seed, args, data,
                                  data_root, options[name], teacher_cfg,
                                  digest)
            if metrics is not None:
                results.setdefault(name, []).append(dict(metrics, seed=seed))

    # Every row's first seed, then more seeds where they decide: the
    # strongest baselines are known from the first seeds' val mAP50.
    for name in args.methods:
        run_seeds(name, args.seeds[:1])
    strong = strongest(results)
    for name in args.methods:
        run_seeds(name,
                  args.seeds[1:seed_count(name, strong, len(args.seeds))])
    results = {
        n: results[n]
        for n in ['teacher'] + list(args.methods) if n in results
    }
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    tables = [format_table(results, data.columns)]
    paired = paired_table(results)
    if paired:
        tables.append(paired)
    print('\n' + '\n\n'.join(tables))
    if strong:
        print(f'\nstrongest baselines on val: {strong}')
    curve = convergence.describe(
        convergence.val_curve(osp.join(runs.ROOT, teacher)),
        args.teacher_iters)
    print(f'\nteacher: {curve}\ntotal {time.time() - start:.0f} s')
    if not args.quick:
        report(args, data, tables, strong, time.time() - start, curve)


def report(args: argparse.Namespace, data: BenchData, tables: List[str],
           strong: Sequence[str], seconds: float, curve: str) -> None:
    """The tables into their section of ``args.out``."""
    command = shlex.join(['python', '-m', 'bench.run'] + sys.argv[1:])
    if args.pair == 'rotated-retinanet':
        pair = (f'teacher `{TEACHER}`, student `{STUDENT}` with ' +
                ', '.join(f'{k}={v}' for k, v in STUDENT_WIDTH.items()))
    else:
        pair = ', '.join(f'{k} `{v}`' for k, v in FAMILIES[args.pair].items())
    setting = (
        f'`{command}`; {pair}; data {data.name}; teacher '
        f'{args.teacher_iters} iterations, students {args.student_iters} '
        f'iterations, batch 4 at 256 px, seeds {args.seeds}' +
        (f', strongest baselines on val: {", ".join(strong)}'
         if strong else '') + f'; teacher: {curve}. Metrics on the test '
        'split; val mAP50 is what choices were made on')
    marker = ('<!-- bench/run.py -->' if args.pair == 'rotated-retinanet' else
              f'<!-- bench/run.py --pair {args.pair} -->')
    write_report(args.out, marker, f'Accuracy, {args.pair}', setting, tables,
                 seconds)


if __name__ == '__main__':
    main()
