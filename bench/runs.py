"""Training and testing runs for the demo and the benchmark.

The one place where bench/demo.py and bench/run.py start
``tools/train.py`` and ``tools/test.py``: the benchmark pair, the schedule
options, the settings hash under which a finished run is cached, and the
stage runner.  Paths are relative to the repository root, where every stage
runs.  The two tools run as modules of the root (``python -m tools.train``),
so that a config's ``custom_imports`` may name a module of bench/, which is
not installed (bench/configs/mmrazor_*.py: ``bench.mmrazor_plugin``).
"""
import functools
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# The pair of the demo and of bench/run.py's single-stage table: the
# project's teacher detector (rotated RetinaNet, 128-channel neck and head)
# with a ResNet-18 backbone, and the project's ResNet-18 student at a quarter
# of its width.  A ResNet-50 teacher takes 1.9 s a step here: in the 6 minutes
# the demo can give it, it reached 0.24 mAP50 (160 iterations); this one takes
# 1.1 s.  Method configs are used as they are, with the pair's options
# (`pair_options`) on the command line.
TEACHER = 'bench/configs/teacher_r18-w128.py'
STUDENT = 'configs/rotated_retinanet/rotated-retinanet_r18_fpn_synthetic.py'
STUDENT_WIDTH = {
    'backbone.base_channels': '16',  # stage outputs 16/32/64/128
    'neck.in_channels': '[16,32,64,128]',
}
DKD = 'configs/rotated_retinanet/dkd_rotated-retinanet_r50-r18_synthetic.py'
# The iteration schedule of every benchmark table (AdamW, warm-up, steps at
# 75% and 90%), which the rotated configs inherit and the NWPU ones are moved
# onto (`epoch_to_iter_options`).
SCHEDULE = 'configs/_base_/schedules/synthetic_iter.py'


def pair_options(distiller: bool) -> List[str]:
    """Config options that make a student (``distiller=False``) or a
    distiller config (``True``) use the pair."""
    if not distiller:
        return [f'model.{k}={v}' for k, v in STUDENT_WIDTH.items()]
    return [f'model.teacher={TEACHER}'
            ] + [f'model.student.{k}={v}' for k, v in STUDENT_WIDTH.items()]


def run(cmd: List[str], log: str) -> None:
    """Run a stage from the repository root, streaming the lines worth
    seeing and keeping all of them in ``log``; fail loudly."""
    print(f'\n$ {" ".join(cmd)}', flush=True)
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True)
        for line in proc.stdout:
            f.write(line)
            if any(
                    k in line
                    for k in ('Iter(', 'mAP  ', '| mAP', 'Error:', 'Traceback',
                              'Wrote ', 'train: ', 'val: ', 'Skipped')):
                print('  ' + line.rstrip()[-150:], flush=True)
        if proc.wait() != 0:
            raise SystemExit(f'stage failed ({proc.returncode}); see {log}')
    print(f'  done in {time.time() - start:.0f} s', flush=True)


# The code a run's result depends on beyond its config: the package (both
# halves) and the two entry points.  Part of every run's key, so that a
# table never mixes runs of different code.
SOURCE = ('dkd_mm/**/*.py', 'dkd_mm_data/**/*.py', 'tools/train.py',
          'tools/test.py')


@functools.lru_cache(maxsize=None)
def source_hash() -> str:
    """sha256 prefix of the files of :data:`SOURCE` (paths and contents)."""
    return files_hash(SOURCE)


def files_hash(patterns) -> str:
    """sha256 prefix of the files that the glob ``patterns`` (relative to
    the repository root) match: their paths and contents."""
    digest = hashlib.sha256()
    paths = sorted({
        osp.relpath(path, ROOT)
        for pattern in patterns
        for path in glob.glob(osp.join(ROOT, pattern), recursive=True)
    })
    for path in paths:
        digest.update(path.encode() + b'\0')
        with open(osp.join(ROOT, path), 'rb') as f:
            digest.update(f.read() + b'\0')
    return digest.hexdigest()[:12]


def settings_hash(*parts) -> str:
    """A short key of a run's settings: the parts themselves, the source
    of the code (:func:`source_hash`) and, for each part that is a config
    file, the whole config it resolves to (its ``_base_`` files included),
    so editing a base or the package invalidates the runs built on it."""
    text = json.dumps(parts, sort_keys=True) + source_hash()
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


def schedule_options(iters: int,
                     data_root: str,
                     seed: int,
                     deterministic: bool = False) -> List[str]:
    """``--cfg-options`` of a training run: ``iters`` iterations with the
    learning-rate steps at 75% and 90%, one checkpoint at the end, no
    validation (every run is tested after), data from ``data_root``."""
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    return [
        # mmengine validates at the last iteration unless val_begin is past
        # it.
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters + 1}',
        f'train_cfg.val_begin={iters + 1}',
        f'default_hooks.checkpoint.interval={iters}',
        'default_hooks.visualization.draw=False',
        f'param_scheduler.1.end={iters}',
        f'param_scheduler.1.milestones=[{int(iters * .75)},'
        f'{int(iters * .9)}]',
        f'randomness.seed={seed}',
        f'randomness.deterministic={deterministic}'
    ] + [f'{loader}.dataset.data_root={data_root}/' for loader in loaders]


def epoch_to_iter_options(distiller: bool = False) -> List[str]:
    """``--cfg-options`` that move a config on mmdet's epoch-based 1x
    schedule (SGD; a LinearLR warm-up by iteration, then MultiStepLR by
    epoch) onto the benchmark's iteration schedule, :data:`SCHEDULE`
    (optimizer, gradient clipping, warm-up and logging read from it), with
    checkpoints by iteration; :func:`schedule_options` then sets the
    iterations and the steps.  ``distiller``: also warm DKD's weights up
    (the config's first custom hook, ``DKDTeacherHook``) over the new
    warm-up, as ``configs/_base_/distill/dkd.py`` asks."""
    from mmengine.config import Config
    schedule = Config.fromfile(osp.join(ROOT, SCHEDULE))
    optim = schedule.synthetic_optim_wrapper
    warmup = schedule.synthetic_param_scheduler[0]
    options = [
        # _delete_ drops the keys the new types do not take (max_epochs,
        # SGD's momentum).
        'train_cfg._delete_=True',
        'train_cfg.type=IterBasedTrainLoop',
        'optim_wrapper.optimizer._delete_=True',
        'param_scheduler.1.by_epoch=False',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.logger.interval='
        f'{schedule.synthetic_default_hooks.logger.interval}',
    ]
    options += [
        f'log_processor.{k}={v}'
        for k, v in schedule.synthetic_log_processor.items()
    ]
    options += [
        f'optim_wrapper.optimizer.{k}={v}' for k, v in optim.optimizer.items()
    ]
    options += [
        f'optim_wrapper.clip_grad.{k}={v}' for k, v in optim.clip_grad.items()
    ]
    options += [f'param_scheduler.0.{k}={v}' for k, v in warmup.items()]
    if distiller:
        options.append(f'custom_hooks.0.warmup_iters={warmup.end}')
    return options


def run_key(config: str,
            iters: int,
            seed: int,
            data_root: str,
            extra: Sequence[str] = (),
            teacher: str = TEACHER,
            deterministic: bool = False) -> str:
    """The key of a run's settings (:func:`train`'s arguments): its
    checkpoint's name, and its entry in bench/ledger_entries/."""
    parts = [config, teacher, iters, seed, data_root, list(extra)]
    if deterministic:
        parts.append('deterministic')
    return settings_hash(*parts)


def train(config: str,
          out_dir: str,
          iters: int,
          seed: int,
          data_root: str,
          extra: Sequence[str] = (),
          teacher: str = TEACHER,
          deterministic: bool = False,
          cached_only: bool = False) -> Optional[str]:
    """Train ``config`` into ``out_dir`` unless a run of the same settings
    finished there before.

    Args:
        config (str): The config file, relative to the repository root.
        out_dir (str): The run's work directory.
        iters (int): Training iterations.
        seed (int): Random seed of the run.
        data_root (str): The data set's root.
        extra (Sequence[str]): More ``--cfg-options`` (e.g. the pair's).
            Defaults to ().
        teacher (str): The teacher config of the pair, part of the key.
            Defaults to :data:`TEACHER`.
        deterministic (bool): Deterministic CUDNN/torch algorithms (part of
            the key only when set, so non-deterministic runs keep the keys
            they had).  Defaults to False.
        cached_only (bool): Train nothing. Defaults to False.

    Returns:
        str | None: ``<out_dir>/final_<key>.pth``, where ``key`` is the
        :func:`settings_hash` of the settings; None where it does not exist
        and ``cached_only``.
    """
    key = run_key(config, iters, seed, data_root, extra, teacher,
                  deterministic)
    done = osp.join(out_dir, f'final_{key}.pth')
    if osp.isfile(osp.join(ROOT, done)):
        print(f'[{out_dir}] cached: {done}', flush=True)
        return done
    if cached_only:
        print(f'[{out_dir}] not trained yet: left out', flush=True)
        return None
    os.makedirs(osp.join(ROOT, out_dir), exist_ok=True)
    print(f'[{out_dir}] training {config} for {iters} iterations', flush=True)
    run([
        sys.executable, '-m', 'tools.train', config, '--work-dir', out_dir,
        '--cfg-options'
    ] + schedule_options(iters, data_root, seed, deterministic) + list(extra),
        osp.join(ROOT, out_dir, 'train.log'))
    os.replace(
        osp.join(ROOT, out_dir, f'iter_{iters}.pth'), osp.join(ROOT, done))
    # The run's logged scalars beside its checkpoint (bench/convergence.py):
    # the newest of mmengine's timestamped folders is this run's.
    logged = sorted(
        glob.glob(osp.join(ROOT, out_dir, '*', 'vis_data', 'scalars.json')))
    if logged:
        shutil.copyfile(logged[-1], scalars_of(osp.join(ROOT, done)))
    return done


def scalars_of(checkpoint: str) -> str:
    """Where :func:`train` keeps the logged scalars of a checkpoint's run."""
    return checkpoint[:-len('.pth')] + '_scalars.json'


def test(config: str,
         ckpt: str,
         data_root: str,
         outputs: Sequence[str],
         extra: Sequence[str] = ()) -> None:
    """Test ``ckpt`` on ``data_root``'s test split with ``tools/test.py``,
    in the checkpoint's directory.

    Args:
        config (str): The config the checkpoint was trained with.
        ckpt (str): The checkpoint.
        data_root (str): The data set's root.
        outputs (Sequence[str]): What ``tools/test.py`` writes, e.g.
            ``['--metrics-out', path]`` or ``['--out', preds]``.
        extra (Sequence[str]): More ``--cfg-options``. Defaults to ().
    """
    out_dir = osp.dirname(ckpt)
    run([
        sys.executable, '-m', 'tools.test', config, ckpt, '--work-dir', out_dir
    ] + list(outputs) + [
        '--cfg-options', f'test_dataloader.dataset.data_root={data_root}/',
        'default_hooks.visualization.draw=False'
    ] + list(extra), osp.join(ROOT, out_dir, 'test.log'))
