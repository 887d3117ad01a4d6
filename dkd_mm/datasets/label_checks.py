"""The rules by which dkd_mm's loaders treat bad labels and images.

Every loader (``RobustDOTADataset``, ``NWPUVHR10Dataset``, and through the
DOTA loader the synthetic generator's output) applies the same rules, kept
here.  Each problem gets one reason from :data:`REASONS`:

Dropped line (the object is left out, the image kept):

* ``malformed``: wrong field count or layout (DOTA: 9 or 10 fields, the
  9th a class name, not a number, and a missing 10th, the difficulty, is
  0 as in the DOTA devkit; NWPU: ``(x1,y1),(x2,y2),c``, corners in either
  order; a split file: a bad or repeated entry).
* ``non_numeric``: a coordinate that is not a finite number (``nan`` and
  ``inf`` included), or a difficulty / class id that is not an integer.
* ``unknown_class``: a class name (DOTA) or id (NWPU, 1..10) that is not in
  the data set's ``metainfo['classes']``.
* ``degenerate``: fewer than 3 distinct corners, or a convex hull of less
  than :data:`MIN_BOX_AREA` (1 px^2).  The hull, not the polygon in written
  order, is measured: mmrotate turns a quadrilateral into a rotated box with
  ``cv2.minAreaRect``, which does not depend on the order either.
* ``outside``: less than 1 px^2 of the box lies in the image, which spans
  ``[0, w] x [0, h]``.  A box *partly* outside is kept as written (not
  clipped): split patches carry objects cut by the patch border, as
  mmrotate's splitter writes them, and ``mmdet.Resize`` clips when asked.

Dropped image:

* ``missing_image``: a label file or split entry without an image.
* ``corrupt_image``: the image cannot be opened (``check_images='header'``)
  or decoded (``'decode'``), or has no pixels.
* ``missing_label``: an image without its label file (DOTA: an image of
  the image folder; NWPU: a positive image named in the split).
* ``unreadable_label``: a label file that is not UTF-8 text.
* ``duplicate_image``: two images share a stem; the one earliest in
  :data:`IMG_EXTENSIONS` is kept, the other is the one dropped.

Not problems: blank lines and the ``imagesource:``/``gsd:`` header lines of
original DOTA files are passed over; an empty label file gives a negative
image (no objects), which ``filter_cfg=dict(filter_empty_gt=True)`` drops
from training.

With ``on_bad_label='skip'`` a problem is dropped and counted, and one
warning per data set lists the counts per reason with the first few
``file:line`` cases.  With ``'error'`` the first problem raises
:class:`BadLabelError` naming the file and line.  Nothing is repaired into
a different box.  A data set left with no image raises ValueError.
"""
import logging
import math
import os
import os.path as osp
import re
from collections import Counter
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

MIN_BOX_AREA = 1.0
IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')
ON_BAD_LABEL = ('skip', 'error')
CHECK_IMAGES = ('exists', 'header', 'decode')
REASONS = ('malformed', 'non_numeric', 'unknown_class', 'degenerate',
           'outside', 'missing_image', 'corrupt_image', 'missing_label',
           'unreadable_label', 'duplicate_image')
_DOTA_HEADER = ('imagesource:', 'gsd:')
_NWPU_LINE = re.compile(
    r'^\(([^(),]*),([^(),]*)\)\s*,\s*\(([^(),]*),([^(),]*)\)\s*,\s*([^\s,]+)$')


class BadLabelError(ValueError):
    """A bad label or image under ``on_bad_label='error'``; the message
    names the file (and line)."""


class InputIssue(Exception):
    """What a check found: a reason and a detail; the caller adds the file
    and line for :class:`LabelIssues`."""

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in REASONS, reason
        super().__init__(f'{reason}: {detail}')
        self.reason = reason
        self.detail = detail


class LabelIssues:
    """Counts the problems of one data set, or raises at the first.

    Args:
        on_bad_label (str): 'skip' or 'error'. Defaults to 'skip'.
        max_examples (int): ``file:line`` cases kept per reason for the
            report. Defaults to 3.
    """

    def __init__(self,
                 on_bad_label: str = 'skip',
                 max_examples: int = 3) -> None:
        check_choice('on_bad_label', on_bad_label, ON_BAD_LABEL)
        self.on_bad_label = on_bad_label
        self.max_examples = max_examples
        self.counts: Counter = Counter()
        self.examples: Dict[str, List[str]] = {}

    def __len__(self) -> int:
        return sum(self.counts.values())

    def add(self,
            reason: str,
            path: str,
            line: Optional[int] = None,
            detail: str = '') -> None:
        """Record a problem at ``path`` (``line`` counted from 1).

        Raises:
            BadLabelError: If ``on_bad_label='error'``.
        """
        assert reason in REASONS, reason
        where = path if line is None else f'{path}:{line}'
        case = f'{where}: {reason} ({detail})' if detail else \
            f'{where}: {reason}'
        if self.on_bad_label == 'error':
            raise BadLabelError(
                f"{case}; pass on_bad_label='skip' to drop it and go on")
        self.counts[reason] += 1
        kept = self.examples.setdefault(reason, [])
        if len(kept) < self.max_examples:
            kept.append(case)

    def add_issue(self,
                  issue: InputIssue,
                  path: str,
                  line: Optional[int] = None) -> None:
        """:meth:`add` for a raised :class:`InputIssue`."""
        self.add(issue.reason, path, line, issue.detail)

    def summary(self, name: str) -> str:
        """One message: counts per reason and the first cases of each."""
        counts = ', '.join(f'{r}={n}' for r, n in sorted(self.counts.items()))
        cases = [c for r in sorted(self.examples) for c in self.examples[r]]
        return (f'{name}: skipped {len(self)} bad labels or images '
                f"(on_bad_label='skip'): {counts}. First cases:\n  " +
                '\n  '.join(cases))

    def report(self, name: str, num_kept: int = 1) -> bool:
        """Warn once with :meth:`summary` if anything was skipped; return
        whether it did.

        Raises:
            ValueError: If no image is left (``num_kept == 0``), which
                mmengine would only report as a failed concatenation.
        """
        if num_kept == 0:
            skipped = f'; {self.summary(name)}' if self.counts else ''
            raise ValueError(f'{name}: no image to load{skipped}')
        if not self.counts:
            return False
        print_log(self.summary(name), logger='current', level=logging.WARNING)
        return True


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    """Raise ValueError if ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, '
                         f'got {value!r}')


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_number(text: str, what: str = 'coordinate') -> float:
    """A finite float, or :class:`InputIssue` ('non_numeric')."""
    try:
        value = float(text)
    except ValueError:
        raise InputIssue('non_numeric', f'{what} {text!r} is not a number')
    if not math.isfinite(value):
        raise InputIssue('non_numeric', f'{what} {text!r} is not finite')
    return value


def parse_int(text: str, what: str) -> int:
    """An integer, or :class:`InputIssue` ('non_numeric')."""
    try:
        return int(text)
    except ValueError:
        raise InputIssue('non_numeric', f'{what} {text!r} is not an integer')


class DOTAObject(NamedTuple):
    """One parsed DOTA line: 8 corner coordinates, class, difficulty."""
    qbox: List[float]
    class_name: str
    difficulty: int


class NWPUObject(NamedTuple):
    """One parsed NWPU VHR-10 line: ``[x1, y1, x2, y2]`` and the 1-based
    class id."""
    hbox: List[float]
    class_id: int


def parse_dota_line(line: str) -> Optional[DOTAObject]:
    """``x1 y1 ... x4 y4 class [difficult]``; a missing difficulty is 0,
    as in the DOTA devkit.

    Returns:
        DOTAObject | None: None for blank and header lines.

    Raises:
        InputIssue: 'malformed' or 'non_numeric'.
    """
    fields = line.split()
    if not fields or fields[0].lower().startswith(_DOTA_HEADER):
        return None
    if len(fields) not in (9, 10):
        raise InputIssue(
            'malformed', 'expected 8 coordinates, a class and an optional '
            f'difficulty (9 or 10 fields), got {len(fields)} fields')
    if _is_number(fields[8]):  # class names are not: a field is missing
        raise InputIssue('malformed', f'class {fields[8]!r} is a number')
    qbox = [parse_number(v) for v in fields[:8]]
    difficulty = parse_int(fields[9], 'difficulty') \
        if len(fields) == 10 else 0
    return DOTAObject(qbox, fields[8], difficulty)


def parse_nwpu_line(line: str) -> Optional[NWPUObject]:
    """``(x1,y1),(x2,y2),c``.  The two corners may come in either order:
    they span the same rectangle, which is returned as
    ``[xmin, ymin, xmax, ymax]``.

    Returns:
        NWPUObject | None: None for a blank line.

    Raises:
        InputIssue: 'malformed' or 'non_numeric'.
    """
    text = line.strip()
    if not text:
        return None
    match = _NWPU_LINE.match(text)
    if match is None:
        raise InputIssue('malformed', "expected '(x1,y1),(x2,y2),c'")
    x1, y1, x2, y2 = (parse_number(v) for v in match.groups()[:4])
    class_id = parse_int(match.group(5), 'class id')
    hbox = [min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]
    return NWPUObject(hbox, class_id)


def hbox_corners(hbox: Sequence[float]) -> List[float]:
    """``[x1, y1, x2, y2]`` -> the 8 coordinates of its corners, clockwise
    in image axes from the top left (a DOTA qbox at angle 0)."""
    x1, y1, x2, y2 = hbox
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def polygon_area(points: Sequence[Sequence[float]]) -> float:
    """Shoelace area of a simple polygon, ``(K, 2)`` points in order.

    Coordinates are taken relative to the first point, so that large
    scenes (20000 px) keep sub-pixel precision in float64.
    """
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    x, y = (pts - pts[0]).T.tolist()
    twice = sum(x[i - 1] * y[i] - x[i] * y[i - 1] for i in range(len(x)))
    return abs(twice) / 2


def check_box(coords: Sequence[float],
              img_hw: Optional[Tuple[int, int]] = None) -> None:
    """Apply the 'degenerate' and 'outside' rules to one box.

    Args:
        coords (Sequence[float]): Corners, ``x1, y1, x2, y2, ...``.
        img_hw (tuple[int, int], optional): Image height and width; None
            skips the 'outside' rule. Defaults to None.

    Raises:
        InputIssue: 'degenerate' or 'outside'.
    """
    xs, ys = [float(v) for v in coords[::2]], [float(v) for v in coords[1::2]]
    points = list(zip(xs, ys))
    distinct = len(set(points))
    if distinct < 3:
        raise InputIssue('degenerate', f'{distinct} distinct corners')
    order = cv2.convexHull(
        np.array(points, np.float32), returnPoints=False).ravel()
    hull = [points[i] for i in order]
    area = polygon_area(hull)
    if area < MIN_BOX_AREA:
        raise InputIssue('degenerate', f'area {area:.3g} px^2')
    if img_hw is None:
        return
    h, w = img_hw
    if min(xs) >= 0 and min(ys) >= 0 and max(xs) <= w and max(ys) <= h:
        return
    visible = 0.0
    if max(xs) > 0 and max(ys) > 0 and min(xs) < w and min(ys) < h:
        rect = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        visible = float(
            cv2.intersectConvexConvex(np.array(hull, np.float32), rect)[0])
    if visible < MIN_BOX_AREA:
        raise InputIssue(
            'outside', f'{visible:.3g} px^2 of the box inside the '
            f'{w}x{h} image')


def list_images(folder: str,
                issues: Optional[LabelIssues] = None) -> Dict[str, str]:
    """Image files of ``folder`` by stem (extension case ignored).

    Args:
        folder (str): The folder; a missing one raises FileNotFoundError.
        issues (LabelIssues, optional): Gets the 'duplicate_image' cases.
            Defaults to None.

    Returns:
        dict[str, str]: stem -> file name, sorted by stem.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder!r} does not exist')
    found: Dict[str, List[str]] = {}
    for name in os.listdir(folder):
        stem, ext = osp.splitext(name)
        if ext.lower() in IMG_EXTENSIONS:
            found.setdefault(stem, []).append(name)
    images = {}
    for stem in sorted(found):
        first, *others = sorted(found[stem], key=_extension_rank)
        images[stem] = first
        for other in others if issues is not None else ():
            issues.add(
                'duplicate_image',
                osp.join(folder, other),
                detail=f'{first} has the same stem')
    return images


def _extension_rank(name: str) -> Tuple[int, str]:
    return IMG_EXTENSIONS.index(osp.splitext(name)[1].lower()), name


def read_image_size(path: str,
                    check_images: str = 'header') -> Optional[Tuple[int, int]]:
    """``(height, width)`` of an image, checked as ``check_images`` says.

    Args:
        path (str): The image file.
        check_images (str): 'exists' (no file opened; returns None),
            'header' (PIL reads the header only) or 'decode' (every pixel
            is decoded, so truncated files are found). Defaults to 'header'.

    Raises:
        InputIssue: 'missing_image' or 'corrupt_image'.
    """
    check_choice('check_images', check_images, CHECK_IMAGES)
    if not osp.isfile(path):
        raise InputIssue('missing_image', 'file does not exist')
    if check_images == 'exists':
        return None
    from PIL import Image
    # Original DOTA v2 scenes exceed PIL's decompression-bomb limit, which
    # guards against untrusted uploads, not against a data set on disk.
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as img:
            width, height = img.size
            if check_images == 'decode':
                img.load()
    except Exception as exc:  # PIL raises many types for bad files
        raise InputIssue('corrupt_image', f'{type(exc).__name__}: {exc}')
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if width <= 0 or height <= 0:
        raise InputIssue('corrupt_image', f'size {width}x{height}')
    return height, width


def read_label_lines(path: str) -> List[Tuple[int, str]]:
    """``(line number, text)`` of a label file, numbered from 1.

    Raises:
        InputIssue: 'unreadable_label' if it is not UTF-8 text.
    """
    try:
        with open(path, encoding='utf-8-sig') as f:
            return list(enumerate(f.read().splitlines(), 1))
    except (UnicodeDecodeError, OSError) as exc:
        raise InputIssue('unreadable_label', f'{type(exc).__name__}: {exc}')
