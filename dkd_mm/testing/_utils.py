"""Small real inputs for tests: configs from the repo and random batches."""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import Tensor

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def get_model_cfg(config: str) -> Config:
    """The ``model`` of a config under ``configs/`` (or any path).

    Args:
        config (str): Path relative to ``configs/``, or absolute.

    Returns:
        Config: A deep copy of the config's ``model``.
    """
    path = config if osp.isabs(config) else osp.join(REPO_ROOT, 'configs',
                                                     config)
    return Config.fromfile(path).model


def built_param_schedulers(cfg: Config, epoch_length: int = 100) -> list:
    """A config's ``param_scheduler`` built as mmengine's Runner builds it
    (on a one-parameter SGD; epoch-based ones with ``convert_to_iter_based``
    converted at ``epoch_length`` iterations an epoch)."""
    from mmengine.registry import PARAM_SCHEDULERS
    optim = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    built = []
    for c in cfg.param_scheduler:
        c = dict(c)
        c.pop('_scope_', None)  # an mmdet:: base's scope marker
        kind = PARAM_SCHEDULERS.get(c.pop('type'))
        if c.pop('convert_to_iter_based', False):
            built.append(
                kind.build_iter_from_epoch(
                    optim, epoch_length=epoch_length, **c))
        else:
            built.append(kind(optim, **c))
    return built


def demo_batch(num_images: int = 2,
               size: int = 128,
               num_boxes: int = 3,
               num_classes: int = 5,
               rotated: bool = True,
               seed: int = 0,
               empty: Optional[List[int]] = None) -> Tuple[Tensor, list]:
    """A random batch as a data preprocessor would hand it to a detector.

    Args:
        num_images (int): Batch size. Defaults to 2.
        size (int): Square image side in pixels. Defaults to 128.
        num_boxes (int): Boxes per image. Defaults to 3.
        num_classes (int): Labels are drawn below this. Defaults to 5.
        rotated (bool): ``RotatedBoxes`` (cx, cy, w, h, angle) when True,
            ``HorizontalBoxes`` (x1, y1, x2, y2) otherwise. Defaults to True.
        seed (int): Random seed. Defaults to 0.
        empty (list[int], optional): Images that get no box.

    Returns:
        tuple[Tensor, list[DetDataSample]]: (N, 3, size, size) normalised
        inputs and their samples.
    """
    from mmdet.structures.bbox import HorizontalBoxes
    from mmrotate.structures.bbox import RotatedBoxes
    rng = np.random.RandomState(seed)
    inputs = torch.from_numpy(
        rng.randn(num_images, 3, size, size).astype(np.float32))
    samples = []
    for i in range(num_images):
        k = 0 if empty and i in empty else num_boxes
        cx, cy = rng.uniform(0.3, 0.7, (2, k)) * size
        w, h = rng.uniform(0.1, 0.3, (2, k)) * size
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1.0, 1.0),
                img_id=i,
                img_path=f'demo_{i}.png'))
        gt = InstanceData()
        if rotated:
            angle = rng.uniform(-np.pi / 2, np.pi / 2, k)
            boxes = np.stack([cx, cy, w, h, angle], 1).astype(np.float32)
            gt.bboxes = RotatedBoxes(torch.from_numpy(boxes).reshape(-1, 5))
        else:
            boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
                             1).astype(np.float32)
            gt.bboxes = HorizontalBoxes(torch.from_numpy(boxes).reshape(-1, 4))
        gt.labels = torch.from_numpy(rng.randint(0, num_classes, k)).long()
        sample.gt_instances = gt
        sample.ignored_instances = InstanceData(
            bboxes=gt.bboxes[:0], labels=gt.labels[:0])
        samples.append(sample)
    return inputs, samples
