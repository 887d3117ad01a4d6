"""The main job: a real teacher -> student distillation on the embedded data.

    python tools/run_demo.py [--work-dir work_dirs/demo] [--quick]

Stages (each skipped when its result already exists for the same settings):
1. generate the synthetic DOTA-format data (tools/data/make_synthetic_dota.py);
2. train the teacher (configs/teachers/...);
3. train the plain student (configs/students/...), same schedule;
4. distil the student with DKD (configs/dkd/...), same schedule;
5. evaluate teacher, plain student and distilled student with mmrotate's
   DOTA mAP and print a table (also written to <work-dir>/results.md).

The schedule is short so that the job ends in minutes on a 2-core CPU; the
longer comparison lives in bench/ (see docs/benchmarks.md).
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# The pair of the demo and of bench/run.py's single-stage table: the
# project's teacher detector (rotated RetinaNet, 128-channel neck and head)
# with a ResNet-18 backbone, and the project's ResNet-18 student at a quarter
# of its width.  A ResNet-50 teacher takes 1.9 s a step here: in the 6 minutes
# the demo can give it, it reached 0.24 mAP50 (160 iterations); this one takes
# 1.1 s.  The DKD config is used as it is, with the pair's options
# (`pair_options`) on the command line.
TEACHER = 'bench/configs/teacher_r18-w128.py'
STUDENT = 'configs/students/rotated-retinanet_r18_fpn_synthetic.py'
STUDENT_WIDTH = {
    'backbone.base_channels': '16',  # stage outputs 16/32/64/128
    'neck.in_channels': '[16,32,64,128]',
}
DKD = 'configs/dkd/dkd_rotated-retinanet_r50-r18_synthetic.py'


def pair_options(distiller: bool) -> list:
    """Config options that make a student (``distiller=False``) or a
    distiller config (``True``) use the pair."""
    if not distiller:
        return [f'model.{k}={v}' for k, v in STUDENT_WIDTH.items()]
    return [f'model.teacher={TEACHER}'] + [
        f'model.student.{k}={v}' for k, v in STUDENT_WIDTH.items()
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic_dota')
    parser.add_argument('--split', default='default',
                        help='synthetic data preset')
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
    return parser.parse_args()


def run(cmd: list, log: str) -> None:
    """Run a stage, streaming its output, and fail loudly."""
    print(f'\n$ {" ".join(cmd)}', flush=True)
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        for line in proc.stdout:
            f.write(line)
            if any(k in line for k in ('Iter(', 'mAP  ', '| mAP', 'Error:',
                                       'Traceback', 'Wrote ', 'train: ',
                                       'val: ', 'Skipped')):
                print('  ' + line.rstrip()[-150:], flush=True)
        if proc.wait() != 0:
            raise SystemExit(f'stage failed ({proc.returncode}); see {log}')
    print(f'  done in {time.time() - start:.0f} s', flush=True)


def settings_hash(*parts) -> str:
    """A short key of a run's settings: the parts themselves and, for each
    part that is a config file, the whole config it resolves to (its
    ``_base_`` files included), so editing a base invalidates the runs
    built on it."""
    text = json.dumps(parts, sort_keys=True)
    for p in parts:
        if isinstance(p, str) and p.endswith('.py') and osp.isfile(
                osp.join(ROOT, p)):
            text += resolved_config(osp.join(ROOT, p))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def resolved_config(path: str) -> str:
    """The merged text of a config file (mmengine resolves its bases)."""
    from mmengine.config import Config
    cfg = Config.fromfile(path, import_custom_modules=False)
    return json.dumps(cfg.to_dict(), sort_keys=True, default=str)


def train(name: str, config: str, iters: int, work_dir: str, data_root: str,
          seed: int, extra: list) -> str:
    """Train ``config`` unless a checkpoint of the same settings exists."""
    out_dir = osp.join(work_dir, name)
    key = settings_hash(config, iters, data_root, seed, extra)
    done = osp.join(out_dir, f'final_{key}.pth')
    if osp.isfile(done):
        print(f'\n[{name}] reusing {done}', flush=True)
        return done
    os.makedirs(out_dir, exist_ok=True)
    options = [
        # No validation inside training: every model is evaluated below.
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters + 1}',
        f'default_hooks.checkpoint.interval={iters}',
        f'param_scheduler.1.end={iters}',
        f'param_scheduler.1.milestones=[{int(iters * .75)},'
        f'{int(iters * .9)}]',
        f'train_dataloader.dataset.data_root={data_root}/',
        f'val_dataloader.dataset.data_root={data_root}/',
        f'test_dataloader.dataset.data_root={data_root}/',
        'default_hooks.visualization.draw=False',
        # Seeded and deterministic, so that two runs give the same table.
        f'randomness.seed={seed}', 'randomness.deterministic=True'
    ] + extra
    print(f'\n[{name}] training {config} for {iters} iterations', flush=True)
    run([
        sys.executable, 'tools/train.py', config, '--work-dir', out_dir,
        '--cfg-options'
    ] + options, osp.join(out_dir, 'train.log'))
    last = osp.join(out_dir, f'iter_{iters}.pth')
    os.replace(last, done)
    return done


def evaluate(name: str, config: str, ckpt: str, work_dir: str,
             data_root: str, extra: list) -> dict:
    out = osp.join(work_dir, name, 'metrics.json')
    print(f'\n[{name}] evaluating', flush=True)
    run([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        osp.join(work_dir, name), '--metrics-out', out, '--cfg-options',
        f'test_dataloader.dataset.data_root={data_root}/',
        'default_hooks.visualization.draw=False'
    ] + extra, osp.join(work_dir, name, 'test.log'))
    with open(out) as f:
        return json.load(f)


def main() -> None:
    args = parse_args()
    if args.quick:
        args.split, args.teacher_iters, args.student_iters = 'tiny', 4, 2
        args.data_root += '_tiny'
        args.work_dir += '_quick'
    start = time.time()
    os.makedirs(args.work_dir, exist_ok=True)
    run([
        sys.executable, 'tools/data/make_synthetic_dota.py', '--out-dir',
        args.data_root, '--split', args.split
    ], osp.join(args.work_dir, 'data.log'))

    teacher = train('teacher', TEACHER, args.teacher_iters, args.work_dir,
                    args.data_root, args.seed, [])
    plain, distil = pair_options(False), pair_options(True)
    student = train('student', STUDENT, args.student_iters, args.work_dir,
                    args.data_root, args.seed, plain)
    distilled = train('dkd', args.dkd_config, args.student_iters,
                      args.work_dir, args.data_root, args.seed,
                      distil + [f'model.teacher_ckpt={teacher}'])
    rows = [
        ('teacher (ResNet-18, 128-channel FPN)',
         evaluate('teacher', TEACHER, teacher, args.work_dir, args.data_root,
                  [])),
        ('student alone (ResNet-18 at 1/4 width)',
         evaluate('student', STUDENT, student, args.work_dir, args.data_root,
                  plain)),
        ('student + DKD (same student)',
         evaluate('dkd', args.dkd_config, distilled, args.work_dir,
                  args.data_root, distil)),
    ]
    table = ['| model | DOTA mAP (IoU 0.5) |', '|---|---|']
    table += [f'| {name} | {m.get("dota/mAP", float("nan")):.4f} |'
              for name, m in rows]
    text = '\n'.join(table)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text + '\n')
    print('\n' + text)
    print(f'\ntotal {time.time() - start:.0f} s; results in '
          f'{args.work_dir}/results.md')


if __name__ == '__main__':
    main()
