"""Draw the ground truth of a config's data set after its pipeline, as
mmdet's tools/analysis_tools/browse_dataset.py does.

    python tools/analysis/browse_dataset.py CONFIG --output-dir DIR \\
        [--show-number 20] [--stage train|val|test] [--show] \\
        [--cfg-options k=v ...]

Each image of ``{stage}_dataloader.dataset`` goes through the pipeline
(augmentations included) and is saved as ``DIR/<img_id>.png`` with its
boxes drawn by the config's visualizer: mmrotate's ``RotLocalVisualizer``
draws rotated, quadrilateral and horizontal boxes; another visualizer (e.g.
mmdet's) gets horizontal boxes (the enclosing box of a rotated one).
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

from mmdet.structures.bbox import BaseBoxes, HorizontalBoxes
from mmengine.config import Config, DictAction
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope
from mmengine.utils import ProgressBar

import dkd_mm  # noqa: F401  (compat shims and registration)

# After dkd_mm: its shims must come before mmrotate.
from mmrotate.visualization import RotLocalVisualizer  # isort: skip


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a dataset')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--output-dir', help='save the drawn images here')
    parser.add_argument(
        '--show-number',
        type=int,
        default=None,
        help='draw the first N images (default: all)')
    parser.add_argument(
        '--stage', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--show', action='store_true', help='open a window')
    parser.add_argument(
        '--show-interval', type=float, default=2, help='seconds per image')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    if args.output_dir is None and not args.show:
        parser.error('give --output-dir, --show or both')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrotate'))

    dataset = DATASETS.build(cfg[f'{args.stage}_dataloader'].dataset)
    visualizer = VISUALIZERS.build(cfg.visualizer)
    visualizer.dataset_meta = dataset.metainfo
    rotated_capable = isinstance(visualizer, RotLocalVisualizer)
    if args.output_dir is not None:
        os.makedirs(args.output_dir, exist_ok=True)

    number = len(dataset) if args.show_number is None else min(
        args.show_number, len(dataset))
    progress = ProgressBar(number)
    for index in range(number):
        item = dataset[index]
        img = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # to RGB
        data_sample = item['data_samples'].numpy()
        gt = data_sample.gt_instances
        bboxes = gt.get('bboxes', None)
        if isinstance(bboxes, BaseBoxes) and not rotated_capable:
            if not isinstance(bboxes, HorizontalBoxes):
                bboxes = bboxes.convert_to('hbox')
            gt.bboxes = bboxes.tensor
        data_sample.gt_instances = gt
        name = osp.splitext(osp.basename(data_sample.img_path))[0]
        out_file = None if args.output_dir is None else osp.join(
            args.output_dir, f'{name}.png')
        visualizer.add_datasample(
            name,
            img.copy(),
            data_sample,
            draw_pred=False,
            show=args.show,
            wait_time=args.show_interval,
            out_file=out_file)
        progress.update()
    print(f'\nDrew {number} images of the {args.stage} set' +
          (f' into {args.output_dir}' if args.output_dir else ''))


if __name__ == '__main__':
    main()
