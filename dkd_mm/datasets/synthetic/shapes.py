"""Object sprites for the synthetic DOTA-style data set (numpy + cv2 only).

A rotated box is ``(cx, cy, length, width, theta)`` in pixels: ``length``
runs along the heading ``(cos theta, sin theta)`` (x right, y down) and
``width`` across it.  Each sprite is made of polygons in box-normalised
coordinates ``(u, v)`` in ``[-0.5, 0.5]``: ``u`` points to the front and
``v`` to the right of the heading.  Every sprite touches all four sides of
its box, so the box is the object's minimal rotated rectangle.

Continuous coordinates follow mmdet: pixel ``i`` spans ``[i, i + 1)``, so
polygons are drawn shifted by half a pixel onto cv2's pixel-centre grid.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

Colour = Tuple[float, float, float]

_SHIFT = 4  # cv2 sub-pixel bits, so small sprites keep their shape
_CORNER_SIGNS = np.array([[1, -1], [1, 1], [-1, 1], [-1, -1]], np.float64)

_PLANE = (
    np.array([[.5, 0], [.4, -.07], [-.5, -.05], [-.5, .05], [.4, .07]]),
    np.array([[.16, -.06], [-.06, -.5], [-.18, -.5], [-.1, -.06], [-.1, .06],
              [-.18, .5], [-.06, .5], [.16, .06]]),
    np.array([[-.34, -.04], [-.45, -.2], [-.5, -.2], [-.47, 0], [-.5, .2],
              [-.45, .2], [-.34, .04]]),
)
_HULL = np.array([[.5, 0], [.22, -.5], [-.5, -.5], [-.5, .5], [.22, .5]])
_ENGINES = np.array([[.02, -.24], [.02, .24]])
_CAR = np.array([[.5, -.32], [.42, -.5], [-.44, -.5], [-.5, -.34], [-.5, .34],
                 [-.44, .5], [.42, .5], [.5, .32]])

_ROOFS = np.array([[150, 70, 55], [120, 120, 125], [175, 160, 130]],
                  np.float64)
_PAINTS = np.array(
    [[235, 235, 230], [30, 32, 38], [170, 172, 178], [170, 30, 30],
     [35, 60, 150], [200, 160, 40], [60, 110, 70]], np.float64)
_HULLS = np.array([[205, 205, 200], [140, 45, 35], [40, 50, 85], [95, 95, 100],
                   [205, 165, 60]], np.float64)


def rbox_to_corners(rboxes: np.ndarray) -> np.ndarray:
    """Corners of rotated boxes, clockwise on screen from the front left.

    Args:
        rboxes (np.ndarray): ``(N, 5)`` boxes ``(cx, cy, length, width,
            theta)``.

    Returns:
        np.ndarray: ``(N, 4, 2)`` corners front-left, front-right,
        back-right, back-left; a box heading up (``theta = -pi / 2``)
        starts at its top-left corner, as DOTA labels do.
    """
    rboxes = np.asarray(rboxes, np.float64).reshape(-1, 5)
    return box_points(rboxes, _CORNER_SIGNS / 2)


def box_points(rboxes: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Map box-normalised ``(u, v)`` points into image coordinates.

    Args:
        rboxes (np.ndarray): ``(N, 5)`` rotated boxes.
        local (np.ndarray): ``(K, 2)`` points in ``[-0.5, 0.5]``.

    Returns:
        np.ndarray: ``(N, K, 2)`` points ``(x, y)`` in pixels.
    """
    cx, cy, length, width, theta = rboxes.T
    fwd = np.stack([np.cos(theta), np.sin(theta)], -1)[:, None]
    right = np.stack([-np.sin(theta), np.cos(theta)], -1)[:, None]
    u = local[None, :, :1] * length[:, None, None]
    v = local[None, :, 1:] * width[:, None, None]
    return np.stack([cx, cy], -1)[:, None] + u * fwd + v * right


def fill_polygon(img: np.ndarray, pts: np.ndarray, colour: Colour) -> None:
    """Fill a polygon given in continuous pixel coordinates, in place.

    Args:
        img (np.ndarray): ``(H, W)`` or ``(H, W, 3)`` uint8 canvas.
        pts (np.ndarray): ``(K, 2)`` vertices ``(x, y)``.
        colour (tuple): fill value(s).
    """
    fixed = np.round((pts - 0.5) * (1 << _SHIFT)).astype(np.int32)
    line = cv2.LINE_AA if img.ndim == 3 else cv2.LINE_8
    cv2.fillPoly(img, [fixed], _cv_colour(colour), line, _SHIFT)


def _fill_disc(img: np.ndarray, centre: np.ndarray, radius: float,
               colour: Colour) -> None:
    scale = 1 << _SHIFT
    c = tuple(int(round((p - 0.5) * scale)) for p in centre)
    cv2.circle(img, c, int(round(radius * scale)), _cv_colour(colour), -1,
               cv2.LINE_AA, _SHIFT)


def _cv_colour(colour: Sequence[float]) -> tuple:
    return tuple(float(c) for c in np.clip(colour, 0, 255))


def _rect(u0: float, u1: float, v0: float, v1: float) -> np.ndarray:
    return np.array([[u1, v0], [u1, v1], [u0, v1], [u0, v0]])


_CAR_GLASS = (_rect(.1, .3, -.38, .38), _rect(-.4, -.28, -.36, .36))


def _shade(colour: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(colour * factor, 0, 255)


class SpritePainter:
    """Draw the object classes (and clutter) onto an RGB uint8 canvas.

    Args:
        img (np.ndarray): ``(H, W, 3)`` uint8 RGB canvas, drawn in place.
        rng (np.random.Generator): source of colour jitter.
        shadow (np.ndarray): ``(2,)`` shadow offset in pixels (one sun per
            image).
    """

    def __init__(self, img: np.ndarray, rng: np.random.Generator,
                 shadow: np.ndarray) -> None:
        self.img = img
        self.rng = rng
        self.shadow = shadow

    def colour(self, base: np.ndarray, bg: np.ndarray) -> np.ndarray:
        """Jitter ``base`` and pull it part-way towards the background ``bg``
        so that contrast varies from crisp to faint."""
        jittered = base + self.rng.uniform(-18, 18, 3)
        return jittered + (bg - jittered) * self.rng.uniform(0.0, 0.45)

    def _parts(self,
               rbox: np.ndarray,
               parts: Sequence[np.ndarray],
               colour: np.ndarray,
               offset: float = 0.0) -> None:
        shift = self.shadow * offset
        for part in parts:
            fill_polygon(self.img,
                         box_points(rbox[None], part)[0] + shift, colour)

    def plane(self, rbox: np.ndarray, bg: np.ndarray) -> None:
        """Cross-shaped airliner: fuselage, swept wings, tail, engines."""
        body = self.colour(np.full(3, self.rng.uniform(200, 245)), bg)
        self._parts(rbox, _PLANE, _shade(bg, 0.55), offset=1.0)
        self._parts(rbox, _PLANE, body)
        for centre in box_points(rbox[None], _ENGINES)[0]:
            _fill_disc(self.img, centre, 0.05 * rbox[3], _shade(body, 0.6))

    def ship(self, rbox: np.ndarray, bg: np.ndarray) -> None:
        """Pointed hull with a bridge block and, for freighters, hatches."""
        hull = self.colour(_HULLS[self.rng.integers(len(_HULLS))], bg)
        self._parts(rbox, [_HULL], hull)
        self._parts(rbox, [_rect(-.44, -.14, -.3, .3)], _shade(hull, 1.35))
        if self.rng.random() < 0.5:
            hatches = [_rect(u, u + .1, -.28, .28) for u in (-.04, .1, .24)]
            self._parts(rbox, hatches, _shade(hull, 0.7))

    def storage_tank(self, rbox: np.ndarray, bg: np.ndarray) -> None:
        """Round tank seen from above: shadow, roof, rim ring, centre."""
        centre, radius = rbox[:2], rbox[3] / 2
        roof = self.colour(np.full(3, self.rng.uniform(185, 235)), bg)
        _fill_disc(self.img, centre + self.shadow, radius, _shade(bg, 0.5))
        _fill_disc(self.img, centre, radius, _shade(roof, 0.8))
        _fill_disc(self.img, centre, 0.8 * radius, roof)
        _fill_disc(self.img, centre, 0.15 * radius + 0.5, _shade(roof, 0.6))

    def small_vehicle(self, rbox: np.ndarray, bg: np.ndarray) -> None:
        """Car: painted body with dark windscreen and rear window."""
        paint = self.colour(_PAINTS[self.rng.integers(len(_PAINTS))], bg)
        glass = np.array([35., 40., 50.])
        self._parts(rbox, [_CAR], paint)
        self._parts(rbox, _CAR_GLASS, glass)

    def large_vehicle(self, rbox: np.ndarray, bg: np.ndarray) -> None:
        """Truck: cab, gap and a ribbed trailer."""
        trailer = self.colour(np.full(3, self.rng.uniform(170, 240)), bg)
        cab = self.colour(_PAINTS[self.rng.integers(len(_PAINTS))], bg)
        self._parts(
            rbox, [_rect(-.5, .28, -.5, .5)], _shade(bg, 0.55), offset=1.0)
        self._parts(rbox, [_rect(-.5, .28, -.5, .5)], trailer)
        self._parts(rbox, [_rect(.32, .5, -.42, .42)], cab)
        ribs = [_rect(u, u + .03, -.46, .46) for u in np.arange(-.4, .2, .15)]
        self._parts(rbox, ribs, _shade(trailer, 0.82))

    def building(self, rbox: np.ndarray, bg: np.ndarray) -> None:
        """Unlabelled clutter: a gabled roof with a cast shadow."""
        roof = self.colour(_ROOFS[self.rng.integers(len(_ROOFS))], bg)
        whole = _rect(-.5, .5, -.5, .5)
        self._parts(rbox, [whole], _shade(bg, 0.5), offset=1.5)
        self._parts(rbox, [whole], roof)
        self._parts(rbox, [_rect(-.5, .5, 0, .5)], _shade(roof, 0.8))
