"""Test a detector or a DKD distiller, as mmdet's tools/test.py does.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

With a distiller config the student is tested alone (its weights are taken
from the distiller checkpoint; the teacher is neither built nor loaded).  A
student checkpoint written by
tools/model_converters/extract_student.py is tested with the student's own
config, here or with mmrotate's/mmdet's own tools/test.py.
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

import dkd_mm  # noqa: F401  (compat shims and registration)
from dkd_mm.distillers.builder import load_config
from dkd_mm.engine.launch import finish_distributed, prepare_distributed
from dkd_mm.utils import extract_student
from dkd_mm.utils.checkpoint import download_checkpoint, is_url


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the metrics')
    parser.add_argument(
        '--out', help='dump predictions to a pickle file (.pkl)')
    parser.add_argument(
        '--metrics-out', help='write the metrics to this json file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def student_only(cfg: Config, checkpoint: str) -> tuple:
    """The student's model config and a checkpoint of its weights alone."""
    student = cfg.model.student
    if isinstance(student, str):
        student = load_config(student).model
    work_dir = cfg.work_dir
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, 'student_' + osp.basename(checkpoint))
    extract_student(checkpoint, out)
    return student, out


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if is_url(args.checkpoint):
        # A model-zoo link: downloaded once into torch.hub's cache, then
        # loaded from there weights-only (mmengine's own http loader
        # unpickles whatever the file holds), as a teacher_ckpt URL is.
        args.checkpoint = download_checkpoint(args.checkpoint)
    cfg.load_from = args.checkpoint
    if str(cfg.model.get('type', '')).endswith('DKDDistiller'):
        # The student predicts: test it alone, without building or loading
        # the teacher (run checkpoints do not hold it anyway).
        cfg.model, cfg.load_from = student_only(cfg, args.checkpoint)
    prepare_distributed(cfg)

    runner = Runner.from_cfg(cfg)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must be a .pkl or .pickle file')
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.metrics_out is not None and runner.rank == 0:
        with open(args.metrics_out, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=2)
    finish_distributed()


if __name__ == '__main__':
    main()
