"""Accuracy and cost of DKD against its peers on the embedded rotated data.

    python bench/run.py            # full tables -> docs/benchmarks.md
    python bench/run.py --quick    # minutes: tiny data, a few iterations

Accuracy: the teacher is trained once (cached by the hash of its config and
schedule); then, with the same student and schedule: the plain student,
FitNet, FGD, PKD, CWD, DKD and its ablations (GD; GD + ISD), with several
seeds for the plain student and DKD.  Each is evaluated with DOTA-style mAP
(AP50, AP75 and their mean), per-class AP of the long thin ('ship') and the
small ('small-vehicle') classes, and the fraction of the teacher-student gap
it closes.  Cost: see bench/cost.py (training step time and memory, mask
building, inference).
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Dict, List

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.run_demo import run, settings_hash  # noqa: E402

TEACHER = 'configs/teachers/rotated-retinanet_r50_fpn_synthetic.py'
STUDENT = 'configs/students/rotated-retinanet_r18_fpn_synthetic.py'
METHODS = {
    'student': STUDENT,
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
}
SEEDED = ('student', 'dkd (GD+ISD+TSA)')
CLASSES_OF_INTEREST = ('ship', 'small-vehicle')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--work-dir', default='work_dirs/bench')
    parser.add_argument('--teacher-iters', type=int, default=1200)
    parser.add_argument('--student-iters', type=int, default=600)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--methods', nargs='+', default=list(METHODS))
    parser.add_argument(
        '--out', default='docs/benchmarks.md',
        help='Markdown file the tables are written to (full runs only)')
    return parser.parse_args()


def schedule_options(iters: int, data_root: str, seed: int) -> List[str]:
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    return [
        # No validation while training: every run is tested afterwards.
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters + 1}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.visualization.draw=False',
        f'param_scheduler.1.end={iters}',
        f'param_scheduler.1.milestones=[{int(iters * .75)},'
        f'{int(iters * .9)}]', f'randomness.seed={seed}',
        'randomness.deterministic=False'
    ] + [f'{loader}.dataset.data_root={data_root}/' for loader in loaders]


def train(name: str, config: str, iters: int, seed: int, work_dir: str,
          data_root: str, extra: List[str]) -> str:
    key = settings_hash(config, iters, seed, data_root, extra)
    out_dir = osp.join(work_dir, f'{name.replace(" ", "_")}_s{seed}')
    done = osp.join(out_dir, f'final_{key}.pth')
    if osp.isfile(done):
        print(f'[{name} seed {seed}] cached: {done}', flush=True)
        return done
    os.makedirs(out_dir, exist_ok=True)
    print(f'[{name} seed {seed}] training {iters} iterations', flush=True)
    run([sys.executable, 'tools/train.py', config, '--work-dir', out_dir,
         '--cfg-options'] + schedule_options(iters, data_root, seed) + extra,
        osp.join(out_dir, 'train.log'))
    os.replace(osp.join(out_dir, f'iter_{iters}.pth'), done)
    return done


def evaluate(config: str, ckpt: str, data_root: str) -> Dict[str, float]:
    """DOTA mAP at IoU 0.5 and 0.75 plus per-class AP50."""
    out_dir = osp.dirname(ckpt)
    preds = osp.join(out_dir, 'preds.pkl')
    run([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        out_dir, '--out', preds, '--cfg-options',
        f'test_dataloader.dataset.data_root={data_root}/',
        'test_evaluator.iou_thrs=[0.5,0.75]',
        'default_hooks.visualization.draw=False'
    ], osp.join(out_dir, 'test.log'))
    code = ('import sys, json; sys.path.insert(0, "bench"); '
            'from per_class_ap import per_class_ap; '
            'print(json.dumps(per_class_ap(sys.argv[1], sys.argv[2])))')
    out = subprocess.run([sys.executable, '-c', code, config, preds],
                         cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    data_root = 'data/synthetic_dota'
    split = 'default'
    if args.quick:
        data_root, split = 'data/synthetic_dota_tiny', 'tiny'
        args.teacher_iters, args.student_iters, args.seeds = 4, 2, [0]
        args.work_dir += '_quick'
    start = time.time()
    os.makedirs(args.work_dir, exist_ok=True)
    run([sys.executable, 'tools/data/make_synthetic_dota.py', '--out-dir',
         data_root, '--split', split, '--no-progress'],
        osp.join(args.work_dir, 'data.log'))
    teacher = train('teacher', TEACHER, args.teacher_iters, 0, args.work_dir,
                    data_root, [])
    results = {'teacher': [evaluate(TEACHER, teacher, data_root)]}
    for name in args.methods:
        config = METHODS[name]
        extra = [] if name == 'student' else [f'model.teacher_ckpt={teacher}']
        seeds = args.seeds if name in SEEDED else args.seeds[:1]
        results[name] = []
        for seed in seeds:
            ckpt = train(name, config, args.student_iters, seed,
                         args.work_dir, data_root, extra)
            results[name].append(evaluate(config, ckpt, data_root))
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    table = format_table(results)
    print('\n' + table)
    print(f'\ntotal {time.time() - start:.0f} s')
    if not args.quick:
        write_report(args, table)


def format_table(results: Dict[str, List[dict]]) -> str:
    """Mean (and spread over seeds) of each metric, and the gap closed."""
    def mean(rows, key):
        vals = [r[key] for r in rows]
        return sum(vals) / len(vals), (max(vals) - min(vals)) / 2

    teacher = results['teacher'][0]['mAP50']
    student = mean(results.get('student', results['teacher']), 'mAP50')[0]
    lines = [
        '| model | seeds | mAP50 | AP75 | mAP (50,75) | AP50 ship '
        '(long thin) | AP50 small-vehicle (small) | gap closed |',
        '|---|---|---|---|---|---|---|---|'
    ]
    for name, rows in results.items():
        cells = []
        for key in ('mAP50', 'mAP75', 'mAP', 'ship', 'small-vehicle'):
            m, half = mean(rows, key)
            cells.append(f'{m:.3f}' + (f' ± {half:.3f}' if len(rows) > 1
                                       else ''))
        gap = teacher - student
        closed = ('-' if name in ('teacher', 'student') or abs(gap) < 1e-9
                  else f'{(mean(rows, "mAP50")[0] - student) / gap:+.0%}')
        lines.append(f'| {name} | {len(rows)} | ' + ' | '.join(cells) +
                     f' | {closed} |')
    return '\n'.join(lines)


def write_report(args: argparse.Namespace, table: str) -> None:
    import torch
    header = (
        f'## Accuracy (`python bench/run.py`)\n\n'
        f'Date {datetime.date.today()}, {os.cpu_count()} CPU cores '
        f'({platform.processor() or platform.machine()}), torch '
        f'{torch.__version__}; teacher {args.teacher_iters} iterations, '
        f'students {args.student_iters} iterations, batch 4 at 256 px, '
        f'seeds {args.seeds}.\n\n')
    marker = '<!-- bench/run.py -->'
    text = open(args.out).read() if osp.isfile(args.out) else ''
    before = text.split(marker)[0] if marker in text else text
    after = text.split(marker)[2] if text.count(marker) >= 2 else ''
    with open(args.out, 'w') as f:
        f.write(before + marker + '\n' + header + table + '\n' + marker +
                after)


if __name__ == '__main__':
    main()
