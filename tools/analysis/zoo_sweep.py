"""Which model-zoo families DKDDistiller handles: build, one step, predict.

    python tools/analysis/zoo_sweep.py [--families NAME ...] [--size 128] \\
        [--out sweep.md] [--list]

For each family (a config directory of mmrotate's, and ten mmdet ones), a
``DKDDistiller`` with DKD's feature losses (GD + ISD,
``configs/_base_/distill/dkd_model.py``) is built from the family's
packaged config as teacher and its tiny variant as student where the zoo
ships one, else the teacher with a ResNet-18 backbone (the neck's
``in_channels`` to match), or the teacher's own architecture where the
backbone is no ResNet.  No pretrained init, no checkpoint (the teacher keeps
random weights); RotatedIoULoss (CUDA only) becomes GWD as the project's
CPU configs do; the ground truth is the boxes the config loads
(quadrilaterals for mmrotate's ``qbox`` configs).  On two random images of
``--size`` px on CPU, one training step (loss and backward) and one
``predict`` run; a distiller that fails to build or to step with both
losses is tried with GD alone.  A markdown table says, per family, what
works and the first line of what failed.  TSA (a change of the student's
box loss) is not swept.
"""
import argparse
import copy
import sys
import time
import traceback
from typing import Dict, List, Optional, Tuple

# Teacher and student by config path; a student of None is the teacher with
# a ResNet-18 backbone.  One representative config per mmrotate directory.
ROTATED = 'mmrotate::'
MMROTATE = {
    'cfa':
    'cfa/cfa-qbox_r50_fpn_1x_dota.py',
    'convnext':
    'convnext/rotated-retinanet-rbox-le90_convnext-tiny_fpn_'
    'kld-stable_adamw-1x_dota.py',
    'csl':
    'csl/rotated-retinanet-rbox-le90_r50_fpn_csl-gaussian_amp-1x_'
    'dota.py',
    'gliding_vertex':
    'gliding_vertex/gliding-vertex-rbox_r50_fpn_1x_dota.py',
    'gwd':
    'gwd/rotated-retinanet-rbox-le90_r50_fpn_gwd_1x_dota.py',
    'h2rbox':
    'h2rbox/h2rbox-le90_r50_fpn_adamw-1x_dota.py',
    'kfiou':
    'kfiou/rotated-retinanet-hbox-le135_r50_fpn_kfiou_1x_dota.py',
    'kld':
    'kld/rotated-retinanet-rbox-le90_r50_fpn_kld_1x_dota.py',
    'oriented_rcnn':
    'oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py',
    'oriented_reppoints':
    'oriented_reppoints/oriented-reppoints-qbox_r50_'
    'fpn_1x_dota.py',
    'psc':
    'psc/rotated-fcos-hbox-le90_r50_fpn_psc-dual_1x_dota.py',
    'r3det':
    'r3det/r3det-oc_r50_fpn_1x_dota.py',
    'redet':
    'redet/redet-le90_re50_refpn_1x_dota.py',
    'roi_trans':
    'roi_trans/roi-trans-le90_r50_fpn_1x_dota.py',
    'rotated_atss':
    'rotated_atss/rotated-atss-le90_r50_fpn_1x_dota.py',
    'rotated_faster_rcnn':
    'rotated_faster_rcnn/rotated-faster-rcnn-le90_'
    'r50_fpn_1x_dota.py',
    'rotated_fcos':
    'rotated_fcos/rotated-fcos-le90_r50_fpn_1x_dota.py',
    'rotated_reppoints':
    'rotated_reppoints/rotated-reppoints-qbox_r50_fpn_'
    '1x_dota.py',
    'rotated_retinanet':
    'rotated_retinanet/rotated-retinanet-rbox-le90_r50_'
    'fpn_1x_dota.py',
    'rotated_rtmdet': ('rotated_rtmdet/rotated_rtmdet_l-3x-dota.py',
                       'rotated_rtmdet/rotated_rtmdet_tiny-3x-dota.py'),
    's2anet':
    's2anet/s2anet-le135_r50_fpn_1x_dota.py',
    'sasm_reppoints':
    'sasm_reppoints/sasm-reppoints-qbox_r50_fpn_1x_dota.py',
}
MMDET = {
    'retinanet':
    'retinanet/retinanet_r50_fpn_1x_coco.py',
    'faster_rcnn':
    'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'cascade_rcnn':
    'cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py',
    'fcos':
    'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'atss':
    'atss/atss_r50_fpn_1x_coco.py',
    'gfl':
    'gfl/gfl_r50_fpn_1x_coco.py',
    'tood':
    'tood/tood_r50_fpn_1x_coco.py',
    'rtmdet': ('rtmdet/rtmdet_l_8xb32-300e_coco.py',
               'rtmdet/rtmdet_tiny_8xb32-300e_coco.py'),
    'yolox':
    ('yolox/yolox_s_8xb8-300e_coco.py', 'yolox/yolox_tiny_8xb8-300e_coco.py'),
    'detr':
    'detr/detr_r50_8xb2-150e_coco.py',
}
FAMILIES: Dict[str,
               Tuple[str, Optional[str]]] = {
                   **{
                       f'mmrotate/{k}': (ROTATED + v, None) if isinstance(
                           v, str) else (ROTATED + v[0], ROTATED + v[1])
                       for k, v in MMROTATE.items()
                   },
                   **{
                       f'mmdet/{k}': ('mmdet::' + v, None) if isinstance(
                           v, str) else ('mmdet::' + v[0], 'mmdet::' + v[1])
                       for k, v in MMDET.items()
                   },
               }
COLUMNS = ('family', 'teacher', 'student', 'builds', 'trains',
           'DKD parts active', 'predicts', 'failure', 's')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--families',
        nargs='+',
        default=list(FAMILIES),
        help='family names (see --list); defaults to all')
    parser.add_argument(
        '--size', type=int, default=128, help='image side in pixels')
    parser.add_argument('--out', help='write the markdown table here too')
    parser.add_argument(
        '--list', action='store_true', help='list the families and exit')
    return parser.parse_args(argv)


def model_cfg(path: str):
    """A packaged config's model in its scope, without pretrained init and
    with GWD for the CUDA-only RotatedIoULoss."""
    from dkd_mm.distillers.builder import model_config
    cfg, scope = model_config(path, 'model')
    cfg['_scope_'] = scope
    if 'init_cfg' in cfg.get('backbone', {}):
        cfg.backbone.init_cfg = None
    return _cpu_losses(cfg)


def _cpu_losses(cfg):
    if isinstance(cfg, dict):
        if str(cfg.get('type', '')).endswith('RotatedIoULoss'):
            return dict(
                type='mmrotate.GDLoss',
                loss_type='gwd',
                loss_weight=cfg.get('loss_weight', 1.0))
        for key, value in cfg.items():
            cfg[key] = _cpu_losses(value)
    elif isinstance(cfg, list):
        return [_cpu_losses(v) for v in cfg]
    return cfg


def resnet18(teacher) -> Tuple[object, str]:
    """The teacher's config on ResNet-18, or unchanged if it has no
    ResNet-50/101 backbone; and how the student was made."""
    student = copy.deepcopy(teacher)
    backbone = student.get('backbone', {})
    if str(backbone.get('type')).split('.')[-1] != 'ResNet' or \
            backbone.get('depth') not in (50, 101, 152):
        return student, 'teacher\'s own architecture'
    backbone.depth = 18
    neck = student.neck[0] if isinstance(student.neck, list) else student.neck
    # ResNet-18's stages have a quarter of a bottleneck ResNet's channels.
    neck.in_channels = [c // 4 for c in neck.in_channels]
    return student, 'ResNet-18 swap'


def gt_box_type(path: str) -> Optional[str]:
    """The box type of the ground truth the config's training pipeline
    hands its model: ``LoadAnnotations``' ``box_type``, then any
    ``ConvertBoxType`` of ``gt_bboxes`` (mmrotate's ``qbox`` configs train
    on quadrilaterals, others load them and convert)."""
    from dkd_mm.distillers.builder import load_config
    cfg = load_config(path)
    box_type = None
    for step in cfg.get('train_dataloader', {}).get('dataset',
                                                    {}).get('pipeline', []):
        kind = str(step.get('type', ''))
        if kind.endswith('LoadAnnotations'):
            box_type = step.get('box_type', box_type)
        elif kind.endswith('ConvertBoxType'):
            box_type = step.get('box_type_mapping',
                                {}).get('gt_bboxes', box_type)
    return box_type


def demo_inputs(model, size: int, rotated: bool, box_type: Optional[str]):
    from dkd_mm.distillers.structure import find_num_classes
    from dkd_mm.testing import demo_batch
    inputs, samples = demo_batch(
        size=size,
        rotated=rotated,
        num_classes=find_num_classes(model.student) or 1)
    if box_type == 'qbox':  # as the config's LoadAnnotations gives them
        for sample in samples:
            sample.gt_instances.bboxes = \
                sample.gt_instances.bboxes.convert_to('qbox')
    if getattr(model.data_preprocessor, 'boxtype2tensor', False):
        for sample in samples:  # as mmdet's preprocessor gives them
            sample.gt_instances.bboxes = sample.gt_instances.bboxes.tensor
    return inputs, samples


def build(teacher, student, losses: dict):
    from mmengine.config import ConfigDict

    from dkd_mm.registry import MODELS
    return MODELS.build(
        ConfigDict(
            type='dkd_mm.DKDDistiller',
            student=student,
            teacher=teacher,
            distill_losses=losses,
            pred_cfg=dict(nms_pre=20, score_thr=0.0, max_per_img=10)))


def train_step(model, inputs, samples) -> List[str]:
    """One loss and backward; the distillation terms that came back."""
    import torch
    model.train()
    losses = model.loss(inputs, copy.deepcopy(samples))
    total, _ = model.parse_losses(losses)
    if not torch.isfinite(total):
        raise FloatingPointError(f'loss {float(total)}')
    total.backward()
    names = [
        k.replace('loss_global_distill', 'GD').replace('loss_isd', 'ISD')
        for k in losses if k.startswith(('loss_global_distill', 'loss_isd'))
    ]
    if 'isd_selected' in losses:
        names.append(f'ISD selected {int(losses["isd_selected"])}')
    return names


def sweep(name: str, size: int) -> dict:
    """One family's row."""
    teacher_path, student_path = FAMILIES[name]
    row = dict.fromkeys(COLUMNS, '')
    row.update(family=name, teacher=teacher_path.split('::')[1])
    rotated = teacher_path.startswith(ROTATED)
    stage = 'build'
    try:
        teacher = model_cfg(teacher_path)
        if student_path is None:
            student, how = resnet18(teacher)
            row['student'] = how
        else:
            student = model_cfg(student_path)
            row['student'] = student_path.split('::')[1]
        from mmengine.config import Config
        losses = Config.fromfile(_dkd_losses()).dkd_distill_losses
        gd = {'loss_global_distill': losses['loss_global_distill']}
        try:
            model = build(teacher, student, losses)
            row['builds'] = f'yes ({len(model.adapters)} levels)'
        except ValueError as exc:  # a check of ISD's needs: try GD
            model = build(teacher, student, gd)
            row['builds'] = f'GD only ({len(model.adapters)} levels)'
            row['failure'] = f'GD + ISD build: {_reason(exc)}'
            losses = gd
        stage = 'train'
        inputs, samples = demo_inputs(model, size, rotated,
                                      gt_box_type(teacher_path))
        try:
            parts = train_step(model, inputs, samples)
        except Exception as exc:  # ISD alone may fail: try GD
            if losses is gd:
                raise
            first = _reason(exc)
            model = build(teacher, student, gd)
            parts = train_step(model, inputs, samples)
            row['failure'] = f'GD + ISD step: {first}'
        row['trains'] = 'yes'
        row['DKD parts active'] = ', '.join(parts)
        stage = 'predict'
        import torch
        model.eval()
        with torch.no_grad():
            results = model.predict(inputs, copy.deepcopy(samples))
        row['predicts'] = f'yes ({len(results[0].pred_instances)} boxes)'
    except Exception as exc:
        row[stage + 's'] = 'no'
        reason = f'{stage}: {_reason(exc)}'
        row['failure'] = '; '.join(r for r in (row['failure'], reason) if r)
    return row


def _dkd_losses() -> str:
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    return osp.join(root, 'configs', '_base_', 'distill', 'dkd_model.py')


def _reason(exc: Exception, width: int = 160) -> str:
    import os.path as osp
    """The exception's first line and where in the code it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    file = frames[-1].filename.split('site-packages/')[-1] if frames else ''
    file = osp.relpath(file, root) if file.startswith(root) else file
    where = f' ({file}:{frames[-1].lineno})' if frames else ''
    text = f'{type(exc).__name__}: {str(exc).strip().splitlines()[0]}' \
        if str(exc).strip() else type(exc).__name__
    text = text if len(text) <= width else text[:width - 3] + '...'
    return (text + where).replace('|', '\\|')


def markdown(rows: List[dict]) -> str:
    lines = [
        '| ' + ' | '.join(COLUMNS) + ' |',
        '|' + '---|' * len(COLUMNS),
    ]
    lines += [
        '| ' + ' | '.join(row[c] for c in COLUMNS) + ' |' for row in rows
    ]
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.list:
        for name, (teacher, student) in FAMILIES.items():
            print(f'{name}: {teacher} -> {student or "ResNet-18 swap"}')
        return []
    unknown = [f for f in args.families if f not in FAMILIES]
    if unknown:
        raise SystemExit(f'unknown families {unknown}; see --list')
    from mmengine.logging import MessageHub

    import dkd_mm  # noqa: F401  (compat shims before mmrotate)

    # What a runner publishes and some heads read (TOOD: its epoch).
    MessageHub.get_current_instance().update_info('epoch', 0)
    rows = []
    start = time.time()
    for name in args.families:
        family_start = time.time()
        rows.append(sweep(name, args.size))
        rows[-1]['s'] = f'{time.time() - family_start:.1f}'
        print(f'{name}: {rows[-1]["s"]} s', flush=True)
    table = markdown(rows)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(
                page(rows, sys.argv[1:] if argv is None else argv, args.size,
                     time.time() - start))
    return rows


def page(rows: List[dict], argv: List[str], size: int, seconds: float) -> str:
    """The markdown page ``--out`` writes: how it was made, then the
    table."""
    import platform

    import torch
    works = sum(row['predicts'].startswith('yes') for row in rows)
    how = ' '.join(__doc__.split('\n\n')[2].split())
    return ('# Which model-zoo detectors DKD distils\n\n'
            '`python tools/analysis/zoo_sweep.py ' + ' '.join(argv) +
            f'`, {time.strftime("%Y-%m-%d")}, torch {torch.__version__}, '
            f'{platform.machine()} CPU, {size} px, '
            f'{seconds / 60:.1f} minutes: {works} of {len(rows)} families '
            f'build, train a step and predict.\n\n{how}\n\n' + markdown(rows))


if __name__ == '__main__':
    main()
