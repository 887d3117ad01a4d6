"""The box rules of :mod:`dkd_mm_data.labels`: 'degenerate' (fewer
than 3 distinct corners, or a convex hull under :data:`MIN_BOX_AREA`) and
'outside' (less than :data:`MIN_BOX_AREA` of the box in the image)."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .issues import InputIssue

MIN_BOX_AREA = 1.0


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
