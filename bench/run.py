"""Accuracy and cost of DKD against its peers on the embedded rotated data.

    python bench/run.py            # full tables -> docs/benchmarks.md
    python bench/run.py --quick    # minutes: tiny data, a few iterations
    python bench/run.py --pair {oriented-rcnn,rotated-fcos,retinanet-nwpu}

Accuracy: the teacher is trained once (cached by the hash of its config and
schedule); then, with the same student and schedule: the plain student,
FitNet, FGD, PKD, CWD, DKD and its ablations (GD; GD + ISD), with several
seeds for the plain student and DKD.  Each is evaluated with DOTA-style mAP
(AP50, AP75 and their mean), per-class AP of the long thin ('ship') and the
small ('small-vehicle') classes, and the fraction of the teacher-student gap
it closes.  ``--pair``: a shorter table of another family (teacher, plain
student, DKD), on the rotated data or, for the horizontal NWPU VHR-10 pair,
on an NWPU-format sample with mmdet's VOC mAP (bench/data.py).  Cost: see
bench/cost.py (training step time and memory, mask building, inference).
"""
import argparse
import datetime
import glob
import importlib.util
import json
import os
import os.path as osp
import platform
import shlex
import sys
import time
from typing import Dict, List, Optional

from bench import runs
from bench.data import NWPU, SYNTHETIC_DOTA, BenchData, Columns
from bench.per_class_ap import per_class_ap
from bench.runs import STUDENT, STUDENT_WIDTH, TEACHER

# The benchmark pair, the demo's (bench/runs.py): the project's teacher
# detector with a ResNet-18 backbone (a well-trained ResNet-50 teacher does not
# fit the CPU budget) and the project's ResNet-18 student at a quarter of its
# width.  Every method's config is used as it is, with the pair's options
# (`pair_options`) applied on the command line.
METHODS = {
    'student': STUDENT,
    # TSA alone (no teacher): separates the box loss from distillation.
    'student (TSA)':
    'configs/students/rotated-retinanet_r18_fpn_tsa_synthetic.py',
    'fitnet': 'configs/dkd/fitnet_rotated-retinanet_r50-r18_synthetic.py',
    'fgd': 'configs/baselines/fgd_rotated-retinanet_r50-r18_synthetic.py',
    'pkd': 'configs/baselines/pkd_rotated-retinanet_r50-r18_synthetic.py',
    'cwd': 'configs/baselines/cwd_rotated-retinanet_r50-r18_synthetic.py',
    'dkd (GD)':
    'configs/dkd/ablation_gd_rotated-retinanet_r50-r18_synthetic.py',
    'dkd (GD+ISD)':
    'configs/dkd/ablation_gd-isd_rotated-retinanet_r50-r18_synthetic.py',
    'dkd (GD+ISD+TSA)':
    'configs/dkd/dkd_rotated-retinanet_r50-r18_synthetic.py',
    # mmrazor 1.0.0's own FpnTeacherDistill + PKDLoss (the `bench` extra).
    'mmrazor PKD': 'bench/configs/mmrazor_pkd_rotated-retinanet_synthetic.py',
}
RAZOR = ('mmrazor PKD', )
# Shorter tables for the two-stage and anchor-free families and a horizontal
# pair (`--pair`): the project's ResNet-50 teacher and ResNet-18 student of
# each family, plain and with DKD, as the family's configs define them (with
# the options of their data, `PAIR_DATA`, for every row alike).
FAMILIES = {
    'oriented-rcnn':
    dict(
        teacher='configs/oriented_rcnn/oriented-rcnn_r50_fpn_synthetic.py',
        student='configs/oriented_rcnn/oriented-rcnn_r18_fpn_synthetic.py',
        dkd='configs/oriented_rcnn/dkd_oriented-rcnn_r50-r18_synthetic.py'),
    'rotated-fcos':
    dict(
        teacher='configs/rotated_fcos/rotated-fcos_r50_fpn_synthetic.py',
        student='configs/rotated_fcos/rotated-fcos_r18_fpn_synthetic.py',
        dkd='configs/rotated_fcos/dkd_rotated-fcos_r50-r18_synthetic.py'),
    'retinanet-nwpu':
    dict(
        teacher='configs/retinanet_nwpu/retinanet_r50_fpn_nwpu.py',
        student='configs/retinanet_nwpu/retinanet_r18_fpn_nwpu.py',
        dkd='configs/retinanet_nwpu/dkd_retinanet_r50-r18_nwpu.py'),
    # The same teacher (its cached run is the one above: same settings
    # hash), the lite ResNet-18 student (128-channel neck and head).
    'retinanet-nwpu-lite':
    dict(
        teacher='configs/retinanet_nwpu/retinanet_r50_fpn_nwpu.py',
        student='configs/retinanet_nwpu/retinanet_r18-lite_fpn_nwpu.py',
        dkd='configs/retinanet_nwpu/dkd_retinanet_r50-r18-lite_nwpu.py'),
}
# Pairs whose teacher is another pair's (same config, data and options):
# trained once, under that pair's work dir.
SHARED_TEACHER = {'retinanet-nwpu-lite': 'retinanet-nwpu'}
# The data of each pair; SYNTHETIC_DOTA where unlisted.
PAIR_DATA: Dict[str, BenchData] = {
    'retinanet-nwpu': NWPU,
    'retinanet-nwpu-lite': NWPU
}
# Seeds per method (the first N of --seeds): three for the plain student,
# the strongest baseline and DKD, two for DKD's ablations and TSA alone, one
# for the other baselines.
SEED_COUNTS = {
    'student': 3,
    'fgd': 3,
    'dkd (GD+ISD+TSA)': 3,
    'dkd (GD)': 2,
    'dkd (GD+ISD)': 2,
    'student (TSA)': 2,
}


def pair_options(name: str) -> List[str]:
    """Config options that make method ``name`` use the benchmark pair."""
    if name in RAZOR:  # mmrazor's config already names the teacher
        return [
            f'model.architecture.{k}={v}' for k, v in STUDENT_WIDTH.items()
        ]
    # A name starting with 'student' is a detector config, no distiller.
    return runs.pair_options(distiller=not name.startswith('student'))


def row_options(pair: str, name: str) -> List[str]:
    """The ``--cfg-options`` of method ``name``'s runs ('teacher' for the
    teacher's) in ``pair``'s table, the teacher checkpoint aside: the
    options of the pair's data (every row alike), then, for the single-stage
    table, its pair's (:func:`pair_options`); a --pair family's configs are
    its pair as written."""
    data = PAIR_DATA.get(pair, SYNTHETIC_DOTA)
    if name == 'teacher':
        return data.options(False)
    extra = data.options(not name.startswith('student'))
    if pair == 'rotated-retinanet':
        extra += pair_options(name)
    return extra


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
        '--cached-only',
        action='store_true',
        help='Train nothing: table the runs already trained with these '
        'settings (the teacher must be), leaving the others out')
    parser.add_argument(
        '--out',
        default='docs/benchmarks.md',
        help='Markdown file the tables are written to (full runs only)')
    return parser.parse_args()


def available(methods) -> List[str]:
    """``methods`` without the mmrazor row where mmrazor is not installed."""
    return [
        m for m in methods
        if m not in RAZOR or importlib.util.find_spec('mmrazor')
    ]


def train(name: str,
          config: str,
          iters: int,
          seed: int,
          work_dir: str,
          data_root: str,
          extra: List[str],
          teacher: str = TEACHER,
          cached_only: bool = False) -> Optional[str]:
    """The checkpoint of method ``name``'s run with these settings, trained
    unless cached (None where it is not cached and ``cached_only``)."""
    out_dir = osp.join(work_dir, f'{name.replace(" ", "_")}_s{seed}')
    return runs.train(
        config,
        out_dir,
        iters,
        seed,
        data_root,
        extra,
        teacher,
        cached_only=cached_only)


def evaluate(config: str, ckpt: str, data_root: str,
             extra: List[str]) -> Dict[str, float]:
    """mAP at IoU 0.5 and 0.75 plus per-class AP50, with the config's test
    metric (DOTA's or VOC's)."""
    preds = osp.join(osp.dirname(ckpt), 'preds.pkl')
    if osp.isfile(preds) and osp.getmtime(preds) > osp.getmtime(ckpt):
        print(
            f'[{osp.dirname(ckpt)}] predictions of this checkpoint exist: '
            f'{preds}',
            flush=True)
    else:
        runs.test(config, ckpt, data_root, ['--out', preds],
                  ['test_evaluator.iou_thrs=[0.5,0.75]'] + extra)
    metrics = per_class_ap(
        osp.join(runs.ROOT, config), osp.join(runs.ROOT, preds))
    metrics['s_per_iter'] = seconds_per_iter(osp.dirname(ckpt))
    return metrics


def seconds_per_iter(run_dir: str) -> Optional[float]:
    """Mean training step time (s) logged by the newest training run in
    ``run_dir`` (mmengine's ``vis_data/scalars.json``), or None."""
    for scalars in sorted(
            glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')),
            reverse=True):
        with open(scalars) as f:
            times = [
                entry['time'] for entry in map(json.loads, f)
                if 'loss' in entry and 'time' in entry
            ]
        if times:
            return sum(times) / len(times)
    return None


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
    teacher = train('teacher', teacher_cfg, args.teacher_iters, 0, teacher_dir,
                    data_root, extra, teacher_cfg, args.cached_only)
    if teacher is None:
        raise SystemExit('--cached-only: the teacher of these settings is '
                         'not trained yet; run without --cached-only first')
    results = {'teacher': [evaluate(teacher_cfg, teacher, data_root, extra)]}
    for name in args.methods:
        config = methods[name]
        extra = row_options(args.pair, name)
        if not name.startswith('student'):
            extra.append(f'model.teacher_ckpt={teacher}')
        seeds = args.seeds[:SEED_COUNTS.get(name, 1)]
        results[name] = []
        for seed in seeds:
            ckpt = train(name, config, args.student_iters, seed, args.work_dir,
                         data_root, extra, teacher_cfg, args.cached_only)
            if ckpt is not None:
                results[name].append(evaluate(config, ckpt, data_root, extra))
        if not results[name]:
            del results[name]
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    table = format_table(results, data.columns)
    print('\n' + table)
    print(f'\ntotal {time.time() - start:.0f} s')
    if not args.quick:
        write_report(args, data, table, time.time() - start)


def format_table(results: Dict[str, List[dict]],
                 columns: Columns = SYNTHETIC_DOTA.columns) -> str:
    """Mean (and spread over seeds) of each metric, and the gap closed.

    Args:
        results (dict[str, list[dict]]): Per model, one dict of
            bench/per_class_ap.py's metrics (and ``s_per_iter``) per seed;
            'teacher' first.
        columns (Columns): The per-class AP50 columns, (metric key,
            header). Defaults to the synthetic DOTA table's.

    Returns:
        str: A markdown table.
    """

    def mean(rows, key):
        vals = [r[key] for r in rows]
        return sum(vals) / len(vals), (max(vals) - min(vals)) / 2

    teacher = results['teacher'][0]['mAP50']
    student = mean(results.get('student', results['teacher']), 'mAP50')[0]
    headers = ['model', 'seeds', 'mAP50', 'AP75', 'mAP (50,75)'] + [
        header for _, header in columns
    ] + ['gap closed', 's / train iter']
    lines = ['| ' + ' | '.join(headers) + ' |', '|' + '---|' * len(headers)]
    for name, rows in results.items():
        cells = []
        for key in ('mAP50', 'mAP75', 'mAP') + tuple(k for k, _ in columns):
            m, half = mean(rows, key)
            cells.append(f'{m:.3f}' +
                         (f' ± {half:.3f}' if len(rows) > 1 else ''))
        gap = teacher - student
        closed = ('-' if name in ('teacher', 'student') or abs(gap) < 1e-9 else
                  f'{(mean(rows, "mAP50")[0] - student) / gap:+.0%}')
        step = [r['s_per_iter'] for r in rows if r.get('s_per_iter')]
        step = f'{sum(step) / len(step):.2f}' if step else '-'
        lines.append(f'| {name} | {len(rows)} | ' + ' | '.join(cells) +
                     f' | {closed} | {step} |')
    return '\n'.join(lines)


def write_report(args: argparse.Namespace, data: BenchData, table: str,
                 seconds: float) -> None:
    import torch
    command = shlex.join(['python', 'bench/run.py'] + sys.argv[1:])
    if args.pair == 'rotated-retinanet':
        pair = (f'teacher `{TEACHER}`, student `{STUDENT}` with ' +
                ', '.join(f'{k}={v}' for k, v in STUDENT_WIDTH.items()))
    else:
        pair = ', '.join(f'{k} `{v}`' for k, v in FAMILIES[args.pair].items())
    header = (
        f'## Accuracy, {args.pair} (`{command}`)\n\n'
        f'Date {datetime.date.today()}, {os.cpu_count()} CPU cores '
        f'({platform.processor() or platform.machine()}), torch '
        f'{torch.__version__}; {pair}; data {data.name}; teacher '
        f'{args.teacher_iters} iterations, students {args.student_iters} '
        f'iterations, batch 4 at 256 px, seeds {args.seeds}; this invocation '
        f'took {seconds:.0f} s (runs already trained with the same settings '
        'are reused).\n\n')
    marker = ('<!-- bench/run.py -->' if args.pair == 'rotated-retinanet' else
              f'<!-- bench/run.py --pair {args.pair} -->')
    write_section(args.out, marker, header + table)


def write_section(path: str, marker: str, body: str) -> None:
    """Replace the text between two ``marker`` lines of ``path`` (appended
    at the end where the markers are missing)."""
    text = open(path).read() if osp.isfile(path) else ''
    if text.count(marker) >= 2:
        before, _, after = text.split(marker, 2)
    else:
        before, after = text.rstrip('\n') + '\n\n', '\n'
    with open(path, 'w') as f:
        f.write(before + marker + '\n' + body + '\n' + marker + after)


if __name__ == '__main__':
    main()
