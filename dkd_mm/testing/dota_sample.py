"""A DOTA sample at the real patch size: full-size synthetic scenes in the
original release format, split into 1024 px patches by the project's tool.

:func:`write_dota_scenes` writes scenes of about 2000 x 1800 px as DOTA v1.0
is downloaded (``images/P0001.png``, ``labelTxt/P0001.txt`` with the
``imagesource:``/``gsd:`` header lines, DOTA class names).  Each scene is a
mosaic of 256 px tiles rendered by :mod:`dkd_mm.datasets.synthetic`: a
fifth of the cells hold a scene with objects, the rest an empty background
(land, water, roads), each a few distinct tiles placed in a random one of
their four 90 degree rotations.  Objects keep the synthetic set's sizes and
contexts, a 1024 px patch holds about 20 of them (about as many as a DOTA
patch on average; the cost of a training step on CPU grows with them), and
a scene takes well under a second.  :func:`make_dota_sample` writes the
scenes under ``ROOT/DOTA/{train,val}`` and splits them as
``tools/data/dota/split.py`` with ``split_configs/ss_trainval.json`` does
(1024 px windows, gap 200), which gives mmrotate's layout
``ROOT/split_ss_dota/trainval/{images,annfiles}`` that
``configs/_base_/datasets/dota_v1.py`` reads with
``data_root=ROOT/split_ss_dota/``.

Example:
    >>> from dkd_mm.testing.dota_sample import make_dota_sample
    >>> sample = make_dota_sample('/tmp/dota_sample')
    >>> sample['data_root']
    '/tmp/dota_sample/split_ss_dota/'
"""
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Sequence, Tuple

import cv2
import numpy as np

from dkd_mm.datasets.synthetic import SYNTHETIC_CLASSES, render_scene
from dkd_mm.datasets.synthetic.layout import render_layout
from dkd_mm_data.dota_split import SplitSettings
from dkd_mm_data.dota_split_run import split_folders

TILE = 256
# (width, height) of each scene: DOTA v1.0 images are 800-4000 px, mostly
# not square.  Each makes 3 x 2 or 2 x 3 patches of 1024 px.
SCENE_SIZES = ((2048, 1792), (1792, 2048), (2048, 1536))
# The release's subsets: the first scenes go to train/, the last to val/;
# the split joins them into trainval/ as mmrotate's ss_trainval.json does.
NUM_VAL = 1
SUBSETS = ('train', 'val')
# mmrotate's single-scale split (its ss_trainval.json, copied to
# tools/data/dota/split_configs/): 1024 px windows, gap 200.
SPLIT_SETTINGS = SplitSettings(
    sizes=[1024],
    gaps=[200],
    rates=[1.0],
    img_rate_thr=0.6,
    iof_thr=0.7,
    no_padding=False,
    padding_value=[104, 116, 124],
    save_ext='.png')


class Tile(NamedTuple):
    """A square tile: ``(S, S, 3)`` uint8 RGB ``image``, ``(N, 4, 2)``
    ``corners`` of its objects and their ``(N,)`` ``labels`` (indices into
    ``SYNTHETIC_CLASSES``)."""
    image: np.ndarray
    corners: np.ndarray
    labels: np.ndarray


def render_tiles(seed: Sequence[int], num: int, size: int,
                 objects: bool) -> List[Tile]:
    """``num`` tiles with objects (:func:`render_scene`), or empty ones:
    the renderer's background (land, water, airfield, roads) with its noise
    and blur."""
    tiles = []
    for i in range(num):
        rng = np.random.default_rng([*seed, i])
        if objects:
            scene = render_scene(rng, size)
            tiles.append(Tile(scene.image, scene.corners, scene.labels))
            continue
        image = render_layout(rng, size).image
        noisy = image + rng.normal(0, rng.uniform(2, 6), image.shape)
        image = cv2.GaussianBlur(
            np.clip(noisy, 0, 255).astype(np.uint8), (3, 3), 0.6)
        tiles.append(Tile(image, np.zeros((0, 4, 2)), np.zeros(0, np.int64)))
    return tiles


def rotate_corners(corners: np.ndarray, k: int, size: int) -> np.ndarray:
    """Corners of boxes in a ``size`` px tile after ``np.rot90(tile, k)``.

    One turn maps a point ``(x, y)`` of the tile to ``(y, size - x)``
    (pixel edges at 0 and ``size``).

    Args:
        corners (np.ndarray): ``(N, 4, 2)`` ``(x, y)`` corners.
        k (int): Quarter turns, as ``np.rot90``'s ``k``.
        size (int): Tile side in pixels.

    Returns:
        np.ndarray: ``(N, 4, 2)`` corners in the rotated tile, same order.
    """
    out = corners.astype(np.float64)
    for _ in range(k % 4):
        out = np.stack([out[..., 1], size - out[..., 0]], -1)
    return out


def render_mosaic(width: int, height: int, object_tiles: Sequence[Tile],
                  empty_tiles: Sequence[Tile], object_rate: float,
                  rng: np.random.Generator) -> Tile:
    """A ``width`` x ``height`` scene tiled from square tiles of one size.

    Args:
        width (int): Scene width, a multiple of the tiles' side.
        height (int): Scene height, a multiple of the tiles' side.
        object_tiles (Sequence[Tile]): Tiles with objects.
        empty_tiles (Sequence[Tile]): Tiles without.
        object_rate (float): Share of the cells that get an object tile.
        rng (np.random.Generator): Picks each cell's tile and rotation.

    Returns:
        Tile: The scene and its objects, in scene pixels.
    """
    size = object_tiles[0].image.shape[0]
    if width % size or height % size:
        raise ValueError(f'scene {width}x{height} is not a whole number of '
                         f'{size} px tiles')
    image = np.zeros((height, width, 3), np.uint8)
    corners, labels = [np.zeros((0, 4, 2))], [np.zeros(0, np.int64)]
    for row in range(height // size):
        for col in range(width // size):
            tiles = object_tiles if rng.random() < object_rate \
                else empty_tiles
            tile = tiles[rng.integers(len(tiles))]
            k = int(rng.integers(4))
            image[row * size:(row + 1) * size,
                  col * size:(col + 1) * size] = np.rot90(tile.image, k)
            offset = np.array([col * size, row * size], np.float64)
            corners.append(rotate_corners(tile.corners, k, size) + offset)
            labels.append(tile.labels)
    return Tile(image, np.concatenate(corners),
                np.concatenate(labels).astype(np.int64))


def dota_label_text(corners: np.ndarray, labels: np.ndarray,
                    gsd: float) -> str:
    """An original DOTA v1.0 label file: two header lines, then
    ``x1 y1 ... x4 y4 class difficult`` per object (difficult 0)."""
    lines = ['imagesource:GoogleEarth', f'gsd:{gsd}']
    for box, label in zip(corners.reshape(-1, 8), labels):
        coords = ' '.join(f'{v:.1f}' for v in box)
        lines.append(f'{coords} {SYNTHETIC_CLASSES[label]} 0')
    return '\n'.join(lines) + '\n'


def write_dota_scenes(out_dir: str,
                      sizes: Sequence[Tuple[int, int]] = SCENE_SIZES,
                      num_val: int = NUM_VAL,
                      object_rate: float = 0.2,
                      seed: int = 0) -> Dict[str, Tuple[int, int]]:
    """Write full-size scenes in DOTA's release layout.

    ``out_dir/{train,val}/images/P0001.png`` ... and
    ``out_dir/{train,val}/labelTxt/P0001.txt`` ...; the last ``num_val``
    scenes go to ``val``.

    Args:
        out_dir (str): Root of the release layout (``data/DOTA`` for real
            data).
        sizes (Sequence[tuple[int, int]]): ``(width, height)`` of each
            scene, multiples of 256. Defaults to ``SCENE_SIZES``.
        num_val (int): Scenes in ``val``. Defaults to 1.
        object_rate (float): Share of the 256 px cells with objects (about
            6 each). Defaults to 0.2.
        seed (int): Seed of every random draw. Defaults to 0.

    Returns:
        dict[str, tuple[int, int]]: ``(width, height)`` by image id.
    """
    object_tiles = render_tiles([seed, 0], 8, TILE, objects=True)
    empty_tiles = render_tiles([seed, 1], 6, TILE, objects=False)
    rng = np.random.default_rng([seed, 2])
    written = {}
    for i, (width, height) in enumerate(sizes):
        img_id = f'P{i + 1:04d}'
        subset = 'val' if i >= len(sizes) - num_val else 'train'
        scene = render_mosaic(width, height, object_tiles, empty_tiles,
                              object_rate, rng)
        for folder in ('images', 'labelTxt'):
            os.makedirs(osp.join(out_dir, subset, folder), exist_ok=True)
        img_path = osp.join(out_dir, subset, 'images', img_id + '.png')
        if not cv2.imwrite(img_path, scene.image[..., ::-1]):
            raise OSError(f'cv2 could not write {img_path}')
        gsd = round(float(rng.uniform(0.1, 0.6)), 6)
        with open(osp.join(out_dir, subset, 'labelTxt', img_id + '.txt'),
                  'w') as f:
            f.write(dota_label_text(scene.corners, scene.labels, gsd))
        written[img_id] = (width, height)
    return written


def split_dota(release_dir: str, save_dir: str) -> None:
    """Split ``release_dir/{train,val}/{images,labelTxt}`` (those that
    exist; one process) with :data:`SPLIT_SETTINGS`, as
    ``tools/data/dota/split.py --base-json ss_trainval.json`` does."""
    subsets = [s for s in SUBSETS if osp.isdir(osp.join(release_dir, s))]
    img_dirs = [osp.join(release_dir, s, 'images') for s in subsets]
    ann_dirs = [osp.join(release_dir, s, 'labelTxt') for s in subsets]
    split_folders(img_dirs, ann_dirs, save_dir, SPLIT_SETTINGS, nproc=1)


def make_dota_sample(root: str, seed: int = 0) -> dict:
    """Full-size scenes and their 1024 px split, as a DOTA user has them.

    Args:
        root (str): Gets ``DOTA/{train,val}/{images,labelTxt}`` and
            ``split_ss_dota/trainval/{images,annfiles}``.
        seed (int): Seed of the scenes. Defaults to 0.

    Returns:
        dict: ``release_dir`` (``root/DOTA``), ``data_root``
        (``root/split_ss_dota/``, for ``train_dataloader.dataset.data_root``
        etc.), ``images`` (``(width, height)`` by image id) and ``patches``
        (sorted patch names).
    """
    release_dir = osp.join(root, 'DOTA')
    images = write_dota_scenes(release_dir, seed=seed)
    data_root = osp.join(root, 'split_ss_dota') + os.sep
    split_dota(release_dir, osp.join(data_root, 'trainval'))
    patches: List[str] = sorted(
        osp.splitext(name)[0]
        for name in os.listdir(osp.join(data_root, 'trainval', 'images')))
    return dict(
        release_dir=release_dir,
        data_root=data_root,
        images=images,
        patches=patches)
