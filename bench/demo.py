"""The main job: a real teacher -> student distillation on the embedded data.

    python -m bench.demo [--work-dir work_dirs/demo] [--quick]

(``bash tools/run_demo.sh`` sets the environment up first, then runs it.)

Stages (each skipped when its result already exists for the same settings):
1. generate the synthetic DOTA-format data (tools/data/make_synthetic_dota.py);
2. train the teacher (configs/rotated_retinanet/...);
3. train the plain student (configs/rotated_retinanet/...), same schedule;
4. distil the student with DKD (configs/rotated_retinanet/...), same schedule;
5. evaluate teacher, plain student and distilled student on the held-out
   test images with mmrotate's DOTA mAP and print a table (also written to
   <work-dir>/results.md);
6. draw the first test image's pictures into <work-dir>/pictures/
   (bench/demo_pictures.py): what DKD distils on it
   (tools/analysis/vis_distill.py: GD's masks and weights per FPN level,
   ISD's selection) and the plain and the DKD student's detections side by
   side (tools/analysis/image_demo.py, one score threshold for both), and
   print their paths after the table.  A picture that fails is a warning:
   the table stays the job's output.

The schedule is short so that the job ends in minutes on a 2-core CPU; the
longer comparison is bench/run.py's (see docs/benchmarks.md), on the same
pair (bench/runs.py).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from bench import demo_pictures, runs
from bench.runs import DKD, STUDENT, TEACHER, pair_options


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic_dota')
    parser.add_argument(
        '--split', default='default', help='synthetic data preset')
    parser.add_argument('--teacher-iters', type=int, default=300)
    parser.add_argument('--student-iters', type=int, default=160)
    parser.add_argument('--dkd-config', default=DKD)
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='random seed of every model (the same for the plain and the '
        'distilled student, so that the two differ only by distillation)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='a few iterations on the tiny split (checks the pipeline)')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=demo_pictures.SCORE_THR,
        help='score threshold of the detections drawn in the side-by-side '
        'picture (the same for both students)')
    return parser.parse_args()


def train(name: str, config: str, iters: int, args: argparse.Namespace,
          extra: list) -> str:
    """Train ``config`` into ``<work-dir>/<name>``, seeded and deterministic
    (so that two runs give the same table), unless a checkpoint of the same
    settings exists."""
    return runs.train(
        config,
        osp.join(args.work_dir, name),
        iters,
        args.seed,
        args.data_root,
        extra,
        deterministic=True)


def evaluate(config: str, ckpt: str, args: argparse.Namespace,
             extra: list) -> dict:
    """mmrotate's DOTA metrics of ``ckpt`` on the held-out test split."""
    out = osp.join(osp.dirname(ckpt), 'metrics.json')
    runs.test(config, ckpt, args.data_root, ['--metrics-out', out], extra)
    with open(osp.join(runs.ROOT, out)) as f:
        return json.load(f)


def main() -> None:
    args = parse_args()
    if args.quick:
        args.split, args.teacher_iters, args.student_iters = 'tiny', 4, 2
        args.data_root += '_tiny'
        args.work_dir += '_quick'
    start = time.time()
    os.makedirs(args.work_dir, exist_ok=True)
    runs.run([
        sys.executable, 'tools/data/make_synthetic_dota.py', '--out-dir',
        args.data_root, '--split', args.split
    ], osp.join(args.work_dir, 'data.log'))

    teacher = train('teacher', TEACHER, args.teacher_iters, args, [])
    plain, distil = pair_options(False), pair_options(True)
    student = train('student', STUDENT, args.student_iters, args, plain)
    distil_run = distil + [f'model.teacher_ckpt={teacher}']
    distilled = train('dkd', args.dkd_config, args.student_iters, args,
                      distil_run)
    rows = [
        ('teacher (ResNet-18, 128-channel FPN)',
         evaluate(TEACHER, teacher, args, [])),
        ('student alone (ResNet-18 at 1/4 width)',
         evaluate(STUDENT, student, args, plain)),
        ('student + DKD (same student)',
         evaluate(args.dkd_config, distilled, args, distil)),
    ]
    table = ['| model | DOTA mAP (IoU 0.5) |', '|---|---|']
    table += [
        f'| {name} | {m.get("dota/mAP", float("nan")):.4f} |'
        for name, m in rows
    ]
    text = '\n'.join(table)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text + '\n')
    # The options each student trained with, so that the pictures are of
    # the runs of the table.
    schedule = runs.schedule_options(args.student_iters, args.data_root,
                                     args.seed, True)
    pictures, warnings = demo_pictures.make_pictures(
        demo_pictures.Run('DKD student', args.dkd_config, distilled,
                          schedule + distil_run),
        demo_pictures.Run('plain student', STUDENT, student,
                          schedule + plain), teacher, args.data_root,
        osp.join(args.work_dir, 'pictures'), args.score_thr)
    print('\n' + text)
    print(f'\ntotal {time.time() - start:.0f} s; results in '
          f'{args.work_dir}/results.md')
    if pictures:
        print('pictures of the first test image:')
    for picture in pictures:
        print(f'  {picture.what}: {picture.path}')
    for warning in warnings:
        print(warning)


if __name__ == '__main__':
    main()
