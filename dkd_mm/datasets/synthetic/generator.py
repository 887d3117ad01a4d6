"""A seeded generator of a small data set in DOTA v1.0 format.

It writes ``<out>/{train,val,test}/images/*.png`` and ``annfiles/*.txt``
with one line per object, ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult``, and
no ``imagesource:``/``gsd:`` header: the split-style files that mmrotate's
``DOTADataset`` reads.  Scenes come from :func:`.scene.render_scene`;
every image has its own random stream derived from ``(seed, subset,
index)``, so the same seed gives byte-identical files and no subset changes
with the size of another.  The configs validate on ``val`` and test on the
held-out ``test``.  Plain numpy and cv2; mmengine is imported only to draw a
progress bar.

Example:
    >>> from dkd_mm.datasets.synthetic import (PRESETS,
    ...                                         generate_synthetic_dota)
    >>> generate_synthetic_dota('data/synthetic_dota', PRESETS['tiny'])
"""
import json
import os
import os.path as osp
import re
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional

import cv2
import numpy as np

from .scene import (CLASS_SIZES, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                    SyntheticScene, render_scene)
from .shapes import rbox_to_corners

__all__ = [
    'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE', 'CLASS_SIZES', 'SUBSETS',
    'PRESETS', 'SyntheticDOTAConfig', 'SyntheticScene', 'render_scene',
    'render_image', 'rbox_to_corners', 'dota_lines', 'generate_synthetic_dota'
]

# Bump when the rendering changes, so old outputs are not mistaken as fresh.
GENERATOR_VERSION = 1
# The generator's name in meta.json: an identity of the data, not this
# module's path.  It is the module's path before the move into
# ``dkd_mm.datasets.synthetic`` and stays so: the move changed no byte of
# the data, so data sets written before it keep the same record.
GENERATOR_NAME = 'dkd_mm.datasets.synthetic_dota'
# An image's stream is seeded with its subset's index here: new subsets go
# at the end, so that those before keep their bytes.
SUBSETS = ('train', 'val', 'test')
META_FILE = 'meta.json'
_OWN_FILE = re.compile(r'^(train|val|test)_\d{5}\.(png|txt)$')


@dataclass(frozen=True)
class SyntheticDOTAConfig:
    """What to generate.

    Args:
        num_train (int): Training images. Defaults to 400.
        num_val (int): Validation images. Defaults to 100.
        num_test (int): Held-out test images. Defaults to 0, so that a
            config that names only train and val writes what it did before
            the subset existed; the presets set it.
        img_size (int): Height and width in pixels (at least 64). Object
            sizes are tuned for 256 and scale with it. Defaults to 256.
        seed (int): Seed of every random draw. Defaults to 0.
    """
    num_train: int = 400
    num_val: int = 100
    num_test: int = 0
    img_size: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        counts = (self.num_train, self.num_val, self.num_test)
        if min(counts) < 0:
            raise ValueError('num_train, num_val and num_test must be >= 0, '
                             f'got {counts}')
        if self.img_size < 64:
            raise ValueError(f'img_size must be >= 64, got {self.img_size}')
        if self.seed < 0:
            raise ValueError(f'seed must be >= 0, got {self.seed}')

    def num_images(self, subset: str) -> int:
        """Number of images in ``subset`` ('train', 'val' or 'test')."""
        return dict(
            train=self.num_train, val=self.num_val, test=self.num_test)[subset]


PRESETS: Dict[str, SyntheticDOTAConfig] = {
    'tiny':
    SyntheticDOTAConfig(num_train=8, num_val=4, num_test=4, img_size=128),
    'default':
    SyntheticDOTAConfig(
        num_train=400, num_val=100, num_test=200, img_size=256),
    'large':
    SyntheticDOTAConfig(
        num_train=2000, num_val=500, num_test=1000, img_size=256),
}


def render_image(cfg: SyntheticDOTAConfig, subset: str,
                 index: int) -> SyntheticScene:
    """Render image ``index`` of ``subset`` exactly as the generator does.

    Args:
        cfg (SyntheticDOTAConfig): The data set's config.
        subset (str): 'train', 'val' or 'test'.
        index (int): Image index within the subset.

    Returns:
        SyntheticScene: The image, boxes and layout masks.
    """
    rng = np.random.default_rng([cfg.seed, SUBSETS.index(subset), index])
    return render_scene(rng, cfg.img_size)


def dota_lines(scene: SyntheticScene) -> List[str]:
    """DOTA label lines of a scene, corners rounded to 0.1 pixel.

    Args:
        scene (SyntheticScene): A rendered scene.

    Returns:
        list[str]: ``'x1 y1 ... x4 y4 class 0'`` per object.
    """
    lines = []
    for corners, label in zip(scene.corners.reshape(-1, 8), scene.labels):
        coords = ' '.join(f'{v:.1f}' for v in corners)
        lines.append(f'{coords} {SYNTHETIC_CLASSES[label]} 0')
    return lines


def _meta(cfg: SyntheticDOTAConfig, preset: Optional[str],
          instances: Dict[str, Dict[str, int]]) -> dict:
    return dict(
        generator=GENERATOR_NAME,
        version=GENERATOR_VERSION,
        preset=preset,
        config=asdict(cfg),
        classes=list(SYNTHETIC_CLASSES),
        images={s: cfg.num_images(s)
                for s in SUBSETS},
        instances=instances)


def _is_complete(out_dir: str, cfg: SyntheticDOTAConfig) -> Optional[dict]:
    """The stored meta if ``out_dir`` already holds exactly this data.

    A meta.json written before the test subset existed has no ``num_test``
    in its config, so its folder is regenerated (train and val to the same
    bytes, test added), never taken as complete.
    """
    try:
        with open(osp.join(out_dir, META_FILE)) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if (meta.get('version') != GENERATOR_VERSION
            or meta.get('config') != asdict(cfg)
            or meta.get('classes') != list(SYNTHETIC_CLASSES)):
        return None
    for subset in SUBSETS:
        for folder, ext in (('images', 'png'), ('annfiles', 'txt')):
            for i in range(cfg.num_images(subset)):
                name = f'{subset}_{i:05d}.{ext}'
                if not osp.isfile(osp.join(out_dir, subset, folder, name)):
                    return None
    return meta


def _clear(folder: str) -> None:
    """Make ``folder`` exist and hold none of a previous run's files; refuse
    to mix with files that this generator did not write."""
    os.makedirs(folder, exist_ok=True)
    names = sorted(os.listdir(folder))
    foreign = [n for n in names if not _OWN_FILE.match(n)]
    if foreign:
        raise FileExistsError(
            f'{folder} holds files this generator did not write '
            f'({foreign[:3]}...); choose an empty or synthetic out_dir')
    for name in names:
        os.remove(osp.join(folder, name))


def generate_synthetic_dota(out_dir: str,
                            cfg: SyntheticDOTAConfig,
                            progress: bool = True,
                            force: bool = False,
                            preset: Optional[str] = None) -> dict:
    """Write the data set, or keep it if ``out_dir`` already holds it.

    ``meta.json`` is written last, so an interrupted run is redone.

    Args:
        out_dir (str): Root folder; ``train/``, ``val/`` and ``test/`` go
            below it.
        cfg (SyntheticDOTAConfig): What to generate.
        progress (bool): Show an mmengine progress bar. Defaults to True.
        force (bool): Regenerate even if the same data is there.
            Defaults to False.
        preset (str, optional): Preset name to record in ``meta.json``.
            Defaults to None.

    Returns:
        dict: ``out_dir``, ``skipped`` (True if kept), ``images`` (count per
        subset) and ``instances`` (count per subset and class).
    """
    meta = None if force else _is_complete(out_dir, cfg)
    if meta is not None:
        return dict(
            out_dir=out_dir,
            skipped=True,
            images=meta['images'],
            instances=meta['instances'])
    os.makedirs(out_dir, exist_ok=True)
    meta_path = osp.join(out_dir, META_FILE)
    if osp.exists(meta_path):
        os.remove(meta_path)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(sum(cfg.num_images(s) for s in SUBSETS))
    instances = {}
    for subset in SUBSETS:
        img_dir = osp.join(out_dir, subset, 'images')
        ann_dir = osp.join(out_dir, subset, 'annfiles')
        _clear(img_dir)
        _clear(ann_dir)
        counts = np.zeros(len(SYNTHETIC_CLASSES), np.int64)
        for i in range(cfg.num_images(subset)):
            scene = render_image(cfg, subset, i)
            counts += np.bincount(
                scene.labels, minlength=len(SYNTHETIC_CLASSES))
            stem = f'{subset}_{i:05d}'
            img_path = osp.join(img_dir, stem + '.png')
            if not cv2.imwrite(img_path, scene.image[..., ::-1]):
                raise OSError(f'cv2 could not write {img_path}')
            with open(osp.join(ann_dir, stem + '.txt'), 'w') as f:
                f.writelines(line + '\n' for line in dota_lines(scene))
            if bar is not None:
                bar.update()
        instances[subset] = dict(zip(SYNTHETIC_CLASSES, counts.tolist()))
    meta = _meta(cfg, preset, instances)
    with open(meta_path + '.tmp', 'w') as f:
        json.dump(meta, f, indent=2)
    os.replace(meta_path + '.tmp', meta_path)
    if bar is not None:
        bar.file.write('\n')
    return dict(
        out_dir=out_dir,
        skipped=False,
        images=meta['images'],
        instances=instances)
