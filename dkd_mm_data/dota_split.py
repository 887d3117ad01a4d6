"""Splitting large DOTA images into patches, as mmrotate's
``tools/data/dota/split/img_split.py`` (dev-1.x) does.

Mirrored from mmrotate, so that its configs, its ``DOTAMetric``
(``merge_patches=True``) and :mod:`~dkd_mm.evaluation.dota_merge` read the
output unchanged:

* Windows: per ``rate``, ``int(size / rate)`` px moved by
  ``int((size - gap) / rate)`` px, the last of a row or column shifted back
  to end at the image border (one window at 0 if the image is smaller).
  Windows of all sizes are pooled; those with no more than
  ``img_rate_thr`` of their area in the image are dropped (if none passes,
  those with the largest share are kept).  Patches keep the original
  resolution (rate 0.5 gives 2048 px patches that the pipeline resizes),
  so merged boxes need no scaling.
* Names: ``<img_id>__<window size>__<x>___<y>``, e.g. ``P0001__1024__0___0``.
* Objects: kept in a window when the share of their area inside it
  (intersection over object, iof) is at least ``iof_thr``; written whole,
  translated to patch coordinates, not clipped.  An object not wholly
  inside gets difficulty 2 (mmrotate's ``trunc``).
* Padding: windows reaching past the image are padded to the window size
  with ``padding_value`` (BGR), unless ``no_padding``.

Departures, where mmrotate fails or guesses: labels follow the rules of
:mod:`~dkd_mm_data.labels` (headers passed over, bad lines
dropped and counted, an image without its label file dropped instead of
split without objects); an object's area is that of its corners' convex
hull; "wholly inside" tests the corners, where mmrotate's ``iof < 1`` in
float32 also flags many objects that are inside (decimal coordinates).
"""
import math
import os.path as osp
import re
from dataclasses import asdict, dataclass
from typing import List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from shapely.geometry import MultiPoint, box

from .labels import DOTALabels, LabelIssues, read_dota_labels
from .png_writer import write_stored_png

SAVE_EXTS = ('.png', '.jpg', '.bmp', '.tif')
TRUNCATED_DIFFICULTY = 2
__all__ = [
    'SplitSettings', 'SplitResult', 'patch_name', 'parse_patch_name',
    'sliding_windows', 'window_iofs', 'window_label_lines', 'crop_window',
    'write_patch', 'split_image'
]
_PATCH_NAME = re.compile(r'^(.+)__(\d+)__(\d+)___(\d+)$')


def patch_name(img_id: str, size: int, x: int, y: int) -> str:
    """mmrotate's patch name: ``f'{img_id}__{size}__{x}___{y}'``."""
    return f'{img_id}__{size}__{x}___{y}'


def parse_patch_name(name: str) -> Tuple[str, int, int, int]:
    """Inverse of :func:`patch_name`: ``(img_id, size, x, y)``.

    The offsets are the last fields, so an ``img_id`` may itself hold
    ``__`` (mmrotate's ``DOTAMetric`` cuts it at the first one).

    Raises:
        ValueError: If ``name`` is not a patch name.
    """
    match = _PATCH_NAME.match(name)
    if match is None:
        raise ValueError(f'{name!r} is not a patch name '
                         '<img_id>__<size>__<x>___<y>')
    img_id, size, x, y = match.groups()
    return img_id, int(size), int(x), int(y)


@dataclass(frozen=True)
class SplitSettings:
    """How to split, with the names of mmrotate's split json files.

    Args:
        sizes (tuple[int]): Window sizes at rate 1. Defaults to (1024,).
        gaps (tuple[int]): Overlap of neighbouring windows, one per size.
            Defaults to (200,).
        rates (tuple[float]): Scales; a window is ``int(size / rate)`` px.
            Only one of ``sizes`` and ``rates`` may have several values.
            Defaults to (1.0,).
        img_rate_thr (float): A window is kept when more than this share of
            it lies in the image. Defaults to 0.6.
        iof_thr (float): An object is kept in a window when at least this
            share of its area lies in the window. Defaults to 0.7.
        no_padding (bool): Do not pad windows that reach past the image.
            Defaults to False.
        padding_value (tuple[int]): BGR (or one) padding value; mmrotate's
            split configs use the ImageNet mean. Defaults to (104, 116, 124).
        save_ext (str): Patch image extension. Defaults to '.png'.
    """

    sizes: Tuple[int, ...] = (1024, )
    gaps: Tuple[int, ...] = (200, )
    rates: Tuple[float, ...] = (1.0, )
    img_rate_thr: float = 0.6
    iof_thr: float = 0.7
    no_padding: bool = False
    padding_value: Tuple[int, ...] = (104, 116, 124)
    save_ext: str = '.png'

    def __post_init__(self) -> None:
        for name in ('sizes', 'gaps', 'rates', 'padding_value'):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        checks = {
            'one gap per size':
            len(self.sizes) == len(self.gaps),
            'several sizes or several rates, not both':
            len(self.sizes) == 1 or len(self.rates) == 1,
            'rates must be positive':
            min(self.rates) > 0,
            f'save_ext must be in {SAVE_EXTS}':
            self.save_ext in SAVE_EXTS,
            'iof_thr must be in [0, 1]':
            0 <= self.iof_thr <= 1,
            'padding_value: 1 or 3 values':
            len(self.padding_value) in (1, 3),
        }
        checks.update({
            f'need 0 <= gap < size, got {g} and {s} after the rate':
            0 <= g < s
            for s, g in self.window_sizes()
        })
        for message, ok in checks.items():
            if not ok:
                raise ValueError(f'{message}: {self}')

    def window_sizes(self) -> List[Tuple[int, int]]:
        """``(size, gap)`` in image pixels, rate by rate as mmrotate."""
        return [(int(s / r), int(g / r)) for r in self.rates
                for s, g in zip(self.sizes, self.gaps)]

    def to_dict(self) -> dict:
        """JSON-ready settings (tuples as lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in asdict(self).items()
        }


def _starts(length: int, size: int, step: int) -> List[int]:
    num = 1 if length <= size else math.ceil((length - size) / step + 1)
    starts = [step * i for i in range(num)]
    if len(starts) > 1 and starts[-1] + size > length:
        starts[-1] = length - size
    return starts


def sliding_windows(width: int,
                    height: int,
                    window_sizes: Sequence[Tuple[int, int]],
                    img_rate_thr: float = 0.6) -> np.ndarray:
    """The windows of an image, ``(N, 4)`` int64 ``x1, y1, x2, y2``.

    Args:
        width (int): Image width.
        height (int): Image height.
        window_sizes (Sequence[tuple[int, int]]): ``(size, gap)`` pairs.
        img_rate_thr (float): Keep windows with more than this share in
            the image (or, if none, those with the largest share).
            Defaults to 0.6.
    """
    windows = []
    for size, gap in window_sizes:
        for x in _starts(width, size, size - gap):
            for y in _starts(height, size, size - gap):
                windows.append((x, y, x + size, y + size))
    wins = np.array(windows, np.int64)
    inside_w = np.clip(wins[:, 2], 0, width) - np.clip(wins[:, 0], 0, width)
    inside_h = np.clip(wins[:, 3], 0, height) - np.clip(wins[:, 1], 0, height)
    rates = inside_w * inside_h / ((wins[:, 2] - wins[:, 0]) *
                                   (wins[:, 3] - wins[:, 1]))
    if not (rates > img_rate_thr).any():
        rates[np.abs(rates - rates.max()) < 0.01] = 1  # mmrotate's eps
    return wins[rates > img_rate_thr]


def window_iofs(polys: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """``(N, M)`` share of each object's convex hull (``polys``, ``(N, 8)``
    corners) inside each window (``(M, 4)`` ``x1, y1, x2, y2``).

    An object whose bounding box lies in a window gets 1 there, one whose
    bounding box misses it 0, without a polygon intersection (most pairs);
    an object of no area gets 0 in windows it is not wholly inside.
    """
    iofs = np.zeros((len(polys), len(windows)))
    if iofs.size == 0:
        return iofs
    pts = polys.reshape(-1, 4, 2)
    lo, hi = pts.min(1)[:, None], pts.max(1)[:, None]  # (N, 1, 2)
    win_lo, win_hi = windows[None, :, :2], windows[None, :, 2:]
    # By the objects' bounding boxes: wholly inside a window (iof 1), or
    # not overlapping it (iof 0); only objects on a window's border need
    # the polygon intersection.
    inside = ((lo >= win_lo) & (hi <= win_hi)).all(-1)
    touch = (np.minimum(hi, win_hi) > np.maximum(lo, win_lo)).all(-1)
    iofs[inside] = 1.0
    hulls = {}
    for i, j in zip(*np.nonzero(touch & ~inside)):
        if i not in hulls:
            hulls[i] = MultiPoint(pts[i].tolist()).convex_hull
        area = hulls[i].area
        if area > 0:
            iofs[i, j] = hulls[i].intersection(box(*windows[j])).area / area
    return iofs


def _fmt(value: float) -> str:
    text = f'{value:.2f}'.rstrip('0').rstrip('.')
    return '0' if text == '-0' else text


def window_label_lines(labels: DOTALabels, window: Sequence[int],
                       iofs: np.ndarray, iof_thr: float) -> List[str]:
    """Label lines of one patch: the kept objects, in patch coordinates.

    Args:
        labels (DOTALabels): The image's objects.
        window (Sequence[int]): ``x1, y1, x2, y2`` of the patch.
        iofs (np.ndarray): ``(N,)`` iof of each object in this window.
        iof_thr (float): Keep objects with ``iof >= iof_thr``.
    """
    x1, y1, x2, y2 = window
    lines = []
    for i in np.nonzero(iofs >= iof_thr)[0]:
        poly = labels.polys[i].copy()
        xs, ys = poly[0::2], poly[1::2]
        inside = (xs.min() >= x1 and xs.max() <= x2 and ys.min() >= y1
                  and ys.max() <= y2)  # no float iof: corners tested
        poly[0::2] -= x1
        poly[1::2] -= y1
        diff = labels.difficulties[i] if inside else TRUNCATED_DIFFICULTY
        lines.append(' '.join([_fmt(v) for v in poly] +
                              [labels.classes[i], str(diff)]))
    return lines


def crop_window(img: np.ndarray, window: Sequence[int],
                settings: SplitSettings) -> np.ndarray:
    """The pixels of a window, padded to its size unless ``no_padding``."""
    x1, y1, x2, y2 = (int(v) for v in window)
    patch = img[y1:y2, x1:x2]
    if settings.no_padding or patch.shape[:2] == (y2 - y1, x2 - x1):
        return patch
    padded = np.empty((y2 - y1, x2 - x1) + patch.shape[2:], img.dtype)
    value = settings.padding_value
    padded[...] = value[0] if len(value) == 1 or img.ndim == 2 else value
    padded[:patch.shape[0], :patch.shape[1]] = patch
    return padded


class SplitResult(NamedTuple):
    """Patches written (none if the image was dropped), objects, issues."""
    img_id: str
    patches: List[str]
    num_objects: int
    issues: LabelIssues


def write_patch(path: str, patch: np.ndarray, compress_png: bool) -> None:
    """Write a patch; a ``.png`` uncompressed unless ``compress_png``
    (:mod:`~dkd_mm_data.png_writer`), other formats with OpenCV."""
    if path.endswith('.png') and not compress_png:
        write_stored_png(path, patch)
    elif not cv2.imwrite(path, patch):
        raise OSError(f'cannot write {path}')


def split_image(img_path: str,
                ann_path: Optional[str],
                save_dir: str,
                settings: SplitSettings,
                on_bad_label: str = 'skip',
                compress_png: bool = False) -> SplitResult:
    """Split one image (and its labels) into ``save_dir/{images,annfiles}``.

    Args:
        img_path (str): The image (any format OpenCV reads; colour).
        ann_path (str, optional): Its DOTA label file; None writes empty
            label files (test set, as mmrotate).
        save_dir (str): Gets ``images/<patch>.<ext>`` and
            ``annfiles/<patch>.txt``.
        settings (SplitSettings): How to split.
        on_bad_label (str): 'skip' or 'error', see
            :class:`~dkd_mm_data.labels.LabelIssues`.
            Defaults to 'skip'.
        compress_png (bool): Write PNG patches with OpenCV's default
            compression (mmrotate's files: half the size, about three times
            the time to write) instead of uncompressed. Defaults to False.
    """
    img_id = osp.splitext(osp.basename(img_path))[0]
    issues = LabelIssues(on_bad_label)
    img = cv2.imread(img_path, cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        issues.add('corrupt_image', img_path, detail='OpenCV cannot read it')
        return SplitResult(img_id, [], 0, issues)
    height, width = img.shape[:2]
    labels = DOTALabels(np.zeros((0, 8)), [], [])
    if ann_path is not None:
        if not osp.isfile(ann_path):
            issues.add('missing_label', img_path, detail=f'no {ann_path}')
            return SplitResult(img_id, [], 0, issues)
        labels = read_dota_labels(ann_path, issues, (height, width))
        if labels is None:
            return SplitResult(img_id, [], 0, issues)
    windows = sliding_windows(width, height, settings.window_sizes(),
                              settings.img_rate_thr)
    iofs = window_iofs(labels.polys, windows)
    names = []
    for j, window in enumerate(windows.tolist()):
        x1, y1, x2, _ = window
        name = patch_name(img_id, x2 - x1, x1, y1)
        lines = window_label_lines(labels, window, iofs[:, j],
                                   settings.iof_thr)
        with open(osp.join(save_dir, 'annfiles', name + '.txt'), 'w') as f:
            f.write(''.join(line + '\n' for line in lines))
        write_patch(
            osp.join(save_dir, 'images', name + settings.save_ext),
            crop_window(img, window, settings), compress_png)
        names.append(name)
    return SplitResult(img_id, names, len(labels.classes), issues)
