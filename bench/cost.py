"""What distillation costs: training steps, GD masks, inference.

    python bench/cost.py [--quick] [--teacher-ckpt PATH]
    python bench/cost.py --family {rotated-retinanet,oriented-rcnn,...,all}
    python bench/cost.py --inference-1024 [--family ...] [--trained]

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
  against a per-box polygon-fill reference written here, with identical
  masks asserted.
* Inference: parameters, FLOPs and images/s of teacher and student.
* Per family (``--family``, ``--inference-1024``; bench/cost_families.py):
  DKD's training-step overhead and 1024 px inference with network and
  post-processing apart, for each family's benchmark pair of bench/run.py.

Without ``--quick`` the tables are written to docs/benchmarks.md (between
``<!-- bench/cost.py -->`` markers) with the command, machine and date.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import random
import resource
import subprocess
import sys
import time
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch

import dkd_mm  # noqa: F401
from bench.cost_memory import PeakMemory
from bench.report import write_section
from bench.run import METHODS, TEACHER, available, pair_options
from bench.runs import ROOT
from bench.scaling import SCALED_SUFFIX
from dkd_mm.distillers.context import DISTILL_PRED_CFG, predict_from_feats

DATA_ROOT = 'data/synthetic_dota'  # made by main() where missing


def _config(config: str, options: List[str] = ()):
    """The config file with ``options`` merged, its custom imports done
    and its default scope current."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.utils import import_modules_from_strings
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(parse_cfg_options(options))
    if cfg.get('custom_imports'):  # e.g. bench.mmrazor_plugin
        import_modules_from_strings(**cfg.custom_imports)
    DefaultScope.get_instance(
        f'cost{time.time()}', scope_name=cfg.default_scope)
    return cfg


def _loader(cfg, data_root: str, key: str = 'train_dataloader'):
    """The config's data loader ``key`` on ``data_root``, in-process."""
    from mmengine.runner import Runner
    loader = cfg[key]
    loader.num_workers = 0
    loader.persistent_workers = False
    loader.dataset.data_root = osp.join(ROOT, data_root) + '/'
    if loader.get('sampler', {}).get('type') == 'DefaultSampler':
        # The same batches in every process, so that rows compare.
        loader.sampler.seed = 0
    return Runner.build_dataloader(loader)


def _build(config: str,
           teacher_ckpt: Optional[str],
           options: List[str] = (),
           data_root: str = DATA_ROOT,
           student_ckpt: Optional[str] = None):
    from dkd_mm.registry import MODELS
    cfg = _config(config, options)
    if 'teacher' in cfg.model:
        cfg.model.teacher_ckpt = teacher_ckpt
    model = MODELS.build(cfg.model)
    if student_ckpt:
        from dkd_mm.distillers.builder import load_teacher_weights

        # The detector being trained: a distiller's student, mmrazor's
        # architecture, or the plain detector itself.
        student = getattr(model, 'student',
                          getattr(model, 'architecture', model))
        load_teacher_weights(student, student_ckpt)  # strict, weights only
    return model, _loader(cfg, data_root)


def parse_cfg_options(options: List[str]) -> dict:
    """``KEY=VALUE`` strings parsed as ``tools/train.py --cfg-options``
    parses them (mmengine's ``DictAction``)."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument(
        '--cfg-options', nargs='*', action=DictAction, default={})
    return parser.parse_args(['--cfg-options', *options]).cfg_options


def _endless(loader) -> Iterator:
    """The loader's batches, epoch after epoch (small data sets)."""
    while True:
        yield from loader


def measure_step(config: str,
                 mode: str,
                 steps: int,
                 teacher_ckpt: Optional[str],
                 options: List[str] = (),
                 data_root: str = DATA_ROOT,
                 student_ckpt: Optional[str] = None,
                 warmup: int = 2,
                 memory_detail: bool = False,
                 device: Optional[str] = None) -> Dict[str, float]:
    """Mean seconds of a training step ('train') or teacher forward.

    Args:
        config (str): The model's config file.
        mode (str): 'train' (loss, backward, SGD step), 'forward' (the
            detector's ``extract_feat`` under ``no_grad``, eval mode) or
            'predict' (``extract_feat`` and the post-NMS predictions that
            DKD's ISD takes from its teacher, with the distiller's default
            ``pred_cfg``, under ``no_grad``, eval mode).
        steps (int): Steps timed, after ``warmup`` untimed ones.
        teacher_ckpt (str, optional): A distiller's teacher weights.
        options (list[str]): ``--cfg-options`` of the config.
        data_root (str): The training data. Defaults to :data:`DATA_ROOT`.
        student_ckpt (str, optional): Weights of the detector being trained
            ('train'; a distiller's student) or predicting ('predict').
            Defaults to None.
        warmup (int): Untimed steps first. Defaults to 2.
        memory_detail (bool): Also return ``step_peak_mb`` and
            ``growth_mb`` (:class:`bench.cost_memory.PeakMemory` over the
            warm-up and timed steps, from right after the model, data
            loader and optimizer were built). Defaults to False.
        device (str, optional): Where the model runs. Defaults to CUDA where
            available, else the CPU.

    Returns:
        dict: ``seconds``, ``peak_mb`` (CPU: the process's maximum resident
        set, model building included; GPU: torch's peak allocation) and,
        with ``memory_detail``, ``step_peak_mb`` and ``growth_mb``.
    """
    device = _device(device)
    torch.manual_seed(0)
    np.random.seed(0)  # the pipeline's random flips: the same batches
    random.seed(0)
    model, loader = _build(config, teacher_ckpt, options, data_root,
                           student_ckpt if mode != 'forward' else None)
    model.to(device)
    model.train()
    optim = torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                            lr=1e-4)
    cuda = device.startswith('cuda')
    memory = PeakMemory(device)
    memory.start()
    times = []
    for i, batch in enumerate(_endless(loader)):
        if i == steps + warmup:
            break
        data = model.data_preprocessor(batch, True)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        if mode == 'forward':
            model.eval()
            with torch.no_grad():
                model.extract_feat(data['inputs'])
        elif mode == 'predict':  # what DKD's teacher runs for ISD
            model.eval()
            with torch.no_grad():
                predict_from_feats(model, model.extract_feat(data['inputs']),
                                   data['data_samples'], DISTILL_PRED_CFG)
        else:
            losses = model.loss(data['inputs'], data['data_samples'])
            total = sum(v.sum() if isinstance(v, torch.Tensor) else sum(v)
                        for k, v in losses.items() if 'loss' in k)
            optim.zero_grad()
            total.backward()
            optim.step()
        if cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if cuda:
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    result = dict(seconds=float(np.mean(times)), peak_mb=float(peak_mb))
    if memory_detail:
        result.update(
            step_peak_mb=memory.peak_mb(), growth_mb=memory.growth_mb())
    return result


def _device(device: Optional[str]) -> str:
    """``device``, or CUDA where available, else the CPU."""
    return device or ('cuda' if torch.cuda.is_available() else 'cpu')


def _all_cells_mask(boxes: torch.Tensor, feat_size, strides) -> torch.Tensor:
    """dkd_mm's former ``foreground_mask``, kept for this table only: every
    box against every cell, a dense ``(K, H * W)`` test."""
    from dkd_mm.functional import box_areas, cell_centers, points_in_boxes
    if boxes.size(0) == 0:
        return boxes.new_zeros(feat_size)
    points = cell_centers(feat_size, strides, boxes.device, boxes.dtype)
    inside = points_in_boxes(points, boxes)  # (K, H * W)
    inv_area = 1.0 / (box_areas(boxes) /
                      (strides[0] * strides[1])).clamp(min=1.0)
    mask = torch.where(inside, inv_area[:, None], inv_area.new_zeros(()))
    return mask.amax(dim=0).reshape(feat_size)


def _per_box_mask(boxes: torch.Tensor, feat_size, stride: int) -> np.ndarray:
    """The reference: one matplotlib polygon fill per box, in float64."""
    from matplotlib.path import Path

    from dkd_mm.functional import cell_centers
    height, width = feat_size
    centers = cell_centers(feat_size,
                           (stride, stride)).numpy().astype(np.float64)
    mask = np.zeros(height * width)
    for cx, cy, bw, bh, a in boxes.double().numpy():
        c, si = np.cos(a), np.sin(a)
        corners = np.array([[-bw, -bh], [bw, -bh], [bw, bh], [-bw, bh]
                            ]) / 2 @ np.array([[c, si], [-si, c]])
        inside = Path(corners + [cx, cy]).contains_points(centers)
        area = max(bw * bh / (stride * stride), 1.0)
        mask[inside] = np.maximum(mask[inside], 1.0 / area)
    return mask.reshape(height, width)


def _median_seconds(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def mask_benchmark(num_boxes: int = 500,
                   size: int = 1024,
                   repeats: int = 5) -> Dict:
    """GD masks of ``num_boxes`` random rotated boxes over 5 FPN levels
    (strides 8 to 128) of a ``size`` px input: dkd_mm's windowed
    ``foreground_mask``, the former every-box-every-cell test and a per-box
    polygon-fill reference; the median of ``repeats`` timed runs each."""
    from dkd_mm.functional import foreground_mask
    rng = np.random.RandomState(0)
    boxes = torch.tensor(
        np.stack([
            rng.uniform(0, size, num_boxes),
            rng.uniform(0, size, num_boxes),
            rng.uniform(8, 120, num_boxes),
            rng.uniform(8, 60, num_boxes),
            rng.uniform(-np.pi / 2, np.pi / 2, num_boxes)
        ], 1),
        dtype=torch.float32)
    levels = [(size // s, size // s, s) for s in (8, 16, 32, 64, 128)]

    def windowed():
        return [foreground_mask(boxes, (h, w), (s, s)) for h, w, s in levels]

    def all_cells():
        return [_all_cells_mask(boxes, (h, w), (s, s)) for h, w, s in levels]

    def per_box():
        return [_per_box_mask(boxes, (h, w), s) for h, w, s in levels]

    ours, dense, reference = windowed(), all_cells(), per_box()
    mismatched = sum(
        int((np.abs(o.numpy() - r) > 1e-5).sum())
        for o, r in zip(ours, reference))
    return dict(
        boxes=num_boxes,
        windowed_s=_median_seconds(windowed, repeats),
        all_cells_s=_median_seconds(all_cells, repeats),
        per_box_s=_median_seconds(per_box, repeats),
        identical_to_all_cells=all(
            torch.equal(o, d) for o, d in zip(ours, dense)),
        mismatched_cells=mismatched,
        cells=sum(h * w for h, w, _ in levels))


# (label, mask_benchmark key, identical column) of the GD mask table.
MASK_ROWS = (('windowed (dkd_mm)', 'windowed_s',
              'yes'), ('all cells (former dkd_mm)', 'all_cells_s', 'yes'),
             ('per-box polygon fill', 'per_box_s', 'reference'))


def inference(config: str,
              num_images: int,
              options: List[str] = (),
              data_root: str = DATA_ROOT) -> Dict[str, float]:
    from mmengine.analysis import get_model_complexity_info
    model, loader = _build(config, None, options, data_root)
    model.eval()
    detector = getattr(model, 'student', model)
    info = get_model_complexity_info(
        detector, input_shape=(3, 256, 256), show_table=False, show_arch=False)
    seen, start = 0, None
    with torch.no_grad():
        for batch in _endless(loader):
            data = model.data_preprocessor(batch, False)
            for i in range(len(data['inputs'])):
                if seen == 2:
                    start = time.perf_counter()
                detector.predict(data['inputs'][i:i + 1],
                                 data['data_samples'][i:i + 1])
                seen += 1
            if seen >= num_images + 2:
                break
    return dict(
        params_m=info['params'] / 1e6,
        gflops=info['flops'] / 1e9,
        images_per_s=(seen - 2) / (time.perf_counter() - start))


def _subprocess(args: list) -> dict:
    out = subprocess.run(
        [sys.executable, '-m', 'bench.cost'] + args,
        cwd=ROOT,
        capture_output=True,
        text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


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
        _subprocess(['--one', 'teacher', 'forward'] + extra)
    }
    for name in dict.fromkeys(['student'] + methods):
        print(f'[cost] {name}', flush=True)
        rows[name] = _subprocess(['--one', name, 'train'] + extra)
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
        command = 'python bench/cost.py'
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
