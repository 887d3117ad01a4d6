"""Distillation terms at initialisation, against the student's detection
loss, on the embedded data (the calibration table of docs/method.md).

    python -m bench.calibrate CONFIG [--teacher-ckpt PATH] [--batches 5]
        [--student-ckpt RUN.pth [--train-status PSI]]
        [--json OUT.json] [--cfg-options KEY=VALUE ...]

Builds the distiller of CONFIG (a fresh student, or the one of a run
checkpoint, and the trained teacher), runs its ``loss`` on a few training
batches without updating anything and prints, per term, the mean value, its
ratio to the student's detection loss (``loss_cls + loss_bbox``, or all
non-distillation ``loss*`` terms) and the norm of its gradient on the
student's neck output (how hard the term pulls the student's features).
``--json`` writes the mean terms and detection loss instead of the table
(no gradient norms): the measurement of bench/scaling.py's rule.
"""
import argparse
import json

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.runner.utils import set_random_seed

import dkd_mm  # noqa: F401  (compat shims, registries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        '--teacher-ckpt',
        help='Default: the config\'s model.teacher_ckpt (e.g. from '
        '--cfg-options)')
    parser.add_argument('--batches', type=int, default=5)
    parser.add_argument('--data-root', default='data/synthetic_dota/')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--student-ckpt',
        help='A run checkpoint of CONFIG (e.g. at half of '
        'training) instead of a freshly initialised student')
    parser.add_argument(
        '--train-status',
        type=float,
        default=None,
        help='psi published for TSA and ISD (e.g. 0.5 with a checkpoint of '
        'half of training); default: none published, so psi = 0')
    parser.add_argument(
        '--json',
        help='Write {"terms": {key: mean}, "detection": D} here, no table')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()

    # Python, numpy (the pipeline's flips) and torch, as a run of the seed.
    set_random_seed(args.seed)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.teacher_ckpt:
        cfg.model.teacher_ckpt = args.teacher_ckpt
    cfg.train_dataloader.dataset.data_root = args.data_root
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    DefaultScope.get_instance('calibrate', scope_name=cfg.default_scope)
    from dkd_mm.registry import MODELS
    model = MODELS.build(cfg.model)
    model.init_weights()  # as the Runner does (e.g. the focal-loss prior)
    if args.student_ckpt:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, args.student_ckpt, map_location='cpu')
    model.train()
    if args.train_status is not None:
        from mmengine.logging import MessageHub

        from dkd_mm.utils.train_status import TRAIN_STATUS_KEY
        MessageHub.get_current_instance().update_info(TRAIN_STATUS_KEY,
                                                      args.train_status)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=args.seed)
    sums: dict = {}
    grads: dict = {}
    for i, batch in enumerate(loader):
        if i == args.batches:
            break
        data = model.data_preprocessor(batch, True)
        losses = model.loss(data['inputs'], data['data_samples'])
        for key, value in losses.items():
            value = sum(value) if isinstance(value, list) else value
            sums[key] = sums.get(key, 0.0) + float(value) / args.batches
        if args.json:
            continue
        feats = model.recorded_student_feats
        for key, value in losses.items():
            value = sum(value) if isinstance(value, list) else value
            # Strength: how hard the term pulls on the student's neck output.
            grad = torch.autograd.grad(
                value, feats, retain_graph=True, allow_unused=True)
            norm = sum(float(g.pow(2).sum()) for g in grad
                       if g is not None)**0.5
            grads[key] = grads.get(key, 0.0) + norm / args.batches
    # Logged statistics (no 'loss' in the key) are neither.
    sums = {k: v for k, v in sums.items() if 'loss' in k}
    distill = {
        k: v
        for k, v in sums.items() if k.startswith(_distill_keys(model))
    }
    det = sum(v for k, v in sums.items() if k not in distill)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(terms=distill, detection=det), f, indent=2)
        print(f'Wrote {args.json}: detection {det:.4f}, terms {distill}')
        return
    print(f'| term | value | ratio to detection loss ({det:.3f}) | '
          'gradient norm on the student neck |')
    print('|---|---|---|---|')
    for key, value in sorted(sums.items()):
        print(f'| {key} | {value:.4f} | {value / det:.3f} | '
              f'{grads[key]:.4f} |')


def _distill_keys(model) -> tuple:
    """Keys produced by distillation losses: prefixed by their config name."""
    return tuple(model.distill_losses.keys())


if __name__ == '__main__':
    main()
