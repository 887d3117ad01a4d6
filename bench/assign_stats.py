"""How many positive priors each ground-truth box gets, per class, under a
detector config's own assigner (the "fix whatever keeps the teacher from
learning every class" diagnosis of the benchmark).

    python -m bench.assign_stats CONFIG [--images 60] [--cfg-options ...]

Builds CONFIG's model (a plain detector, or a distiller's student), runs its
dense head's own ``get_targets`` path on training images of the embedded
data and prints, per class, the mean number of positive priors per GT box,
the share of GT boxes with none, and the median best prior IoU.
"""
import argparse
from collections import defaultdict

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import dkd_mm  # noqa: F401  (compat shims, registries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--images', type=int, default=60)
    parser.add_argument('--data-root', default='data/synthetic_dota/')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model_cfg = cfg.model.get('student', cfg.model)
    loader_cfg = cfg.train_dataloader
    loader_cfg.dataset.data_root = args.data_root
    loader_cfg.num_workers = 0
    loader_cfg.persistent_workers = False
    loader_cfg.batch_size = 1
    DefaultScope.get_instance('assign_stats', scope_name=cfg.default_scope)
    from mmengine.registry import MODELS
    model = MODELS.build(model_cfg)
    head = model.bbox_head
    classes = cfg.train_dataloader.dataset.metainfo['classes']
    positives = defaultdict(list)
    best_iou = defaultdict(list)
    loader = Runner.build_dataloader(loader_cfg)
    seen = 0
    for batch in loader:
        if seen >= args.images:
            break
        seen += 1
        data = model.data_preprocessor(batch, False)
        sample = data['data_samples'][0]
        feat_sizes = [(256 // s, 256 // s) for s in (8, 16, 32, 64, 128)]
        anchors, valid = head.get_anchors(
            feat_sizes, [sample.metainfo], device='cpu')
        levels = [getattr(a, 'tensor', a) for a in anchors[0]]
        flat = torch.cat(levels)
        gt = sample.gt_instances
        from mmengine.structures import InstanceData
        pred = InstanceData(
            priors=type(anchors[0][0])
            (flat) if hasattr(anchors[0][0], 'tensor') else flat)
        num_level = [len(a) for a in levels]
        kwargs = {}
        if 'ATSS' in type(head.assigner).__name__:
            kwargs['num_level_priors'] = num_level
        result = head.assigner.assign(pred, gt_instances=gt, **kwargs)
        boxes = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes
        from mmrotate.structures.bbox import rbbox_overlaps
        iou = rbbox_overlaps(flat[:, :5] if flat.size(-1) > 4 else flat,
                             boxes) if flat.size(-1) == 5 else None
        for g, label in enumerate(gt.labels.tolist()):
            positives[label].append(int((result.gt_inds == g + 1).sum()))
            if iou is not None:
                best_iou[label].append(float(iou[:, g].max()))
    print(f'{seen} images, assigner {type(head.assigner).__name__}')
    print('| class | GT boxes | positives per GT | GT without positive | '
          'median best prior IoU |')
    print('|---|---|---|---|---|')
    for label, counts in sorted(positives.items()):
        ious = sorted(best_iou[label]) or [float('nan')]
        none = sum(c == 0 for c in counts) / len(counts)
        print(f'| {classes[label]} | {len(counts)} | '
              f'{sum(counts) / len(counts):.1f} | {none:.0%} | '
              f'{ious[len(ious) // 2]:.2f} |')


if __name__ == '__main__':
    main()
