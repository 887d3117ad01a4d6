"""Object placement for the synthetic DOTA-style data set (numpy + cv2).

On a background from :mod:`.layout`, objects are placed only where
their context makes sense (ships on water, planes on the airfield, vehicles
in road lanes, storage tanks on open land), so background features carry
information a distilled student can use.  Sizes are given for a 256-pixel
image and scale with the image, except small vehicles, which stay
8-16 pixels like DOTA's small objects.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .layout import Layout, render_layout
from .shapes import SpritePainter, fill_polygon, rbox_to_corners

SYNTHETIC_CLASSES = ('plane', 'ship', 'storage-tank', 'small-vehicle',
                     'large-vehicle')
# The colours mmrotate's DOTADataset gives these classes.
SYNTHETIC_PALETTE = [(165, 42, 42), (255, 0, 255), (0, 51, 153),
                     (138, 43, 226), (255, 128, 0)]
# short side range at 256 px, long / short side range, scales with image
SizeSpec = Tuple[Tuple[float, float], Tuple[float, float], bool]
CLASS_SIZES: Dict[str, SizeSpec] = {
    'plane': ((26., 40.), (1.0, 1.2), True),
    'ship': ((5., 9.), (4.3, 9.5), True),
    'storage-tank': ((14., 34.), (1.0, 1.0), True),
    'small-vehicle': ((8.2, 10.), (1.25, 1.55), False),
    'large-vehicle': ((9., 12.), (2.6, 4.0), True),
    'building': ((12., 28.), (1.0, 2.0), True),  # unlabelled clutter
}
# class, attempts per road (low, high) at 256 px; trucks first, as they
# need the longer gaps
_ROAD_TRAFFIC = (('large-vehicle', 1, 5), ('small-vehicle', 3, 14))


@dataclass
class SyntheticScene:
    """One rendered image, its labels and the layout that explains them.

    Attributes:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        rboxes (np.ndarray): ``(N, 5)`` ``(cx, cy, length, width, theta)``.
        labels (np.ndarray): ``(N,)`` indices into ``SYNTHETIC_CLASSES``.
        water_mask, road_mask, airfield_mask (np.ndarray): ``(H, W)`` bool.
    """
    image: np.ndarray
    rboxes: np.ndarray
    labels: np.ndarray
    water_mask: np.ndarray
    road_mask: np.ndarray
    airfield_mask: np.ndarray

    @property
    def corners(self) -> np.ndarray:
        """``(N, 4, 2)`` box corners, see ``rbox_to_corners``."""
        return rbox_to_corners(self.rboxes)


class _Placer:
    """Rejection sampling of objects into allowed regions without overlap."""

    def __init__(self, img: np.ndarray, rng: np.random.Generator,
                 scale: float) -> None:
        self.size = img.shape[0]
        self.rng = rng
        self.scale = scale
        self.taken = np.zeros(img.shape[:2], np.uint8)
        sun = rng.uniform(0, 2 * np.pi)
        shadow = rng.uniform(1.5, 3) * scale * np.array(
            [np.cos(sun), np.sin(sun)])
        self.painter = SpritePainter(img, rng, shadow)
        self.rboxes: List[np.ndarray] = []
        self.labels: List[int] = []

    def sample_size(self, name: str) -> Tuple[float, float]:
        """Length and width in pixels for a class."""
        (lo, hi), (a_lo, a_hi), scaled = CLASS_SIZES[name]
        width = self.rng.uniform(lo, hi) * (
            max(self.scale, 0.75) if scaled else 1.0)
        return width * self.rng.uniform(a_lo, a_hi), width

    def place(self, name: str, centre: np.ndarray, angle: float,
              allowed: np.ndarray, min_inside: float) -> bool:
        """Draw ``name`` if its box is in the image, at least ``min_inside``
        on ``allowed`` pixels and overlaps placed objects by < 5 %."""
        rbox = np.array([*centre, *self.sample_size(name), angle])
        if name == 'storage-tank':
            rbox[4] = -np.pi / 2  # round: keep DOTA's upright box
        corners = rbox_to_corners(rbox)[0]
        if corners.min() < 0.5 or corners.max() > self.size - 0.5:
            return False
        footprint = np.zeros_like(self.taken)
        fill_polygon(footprint, corners, (1, ))
        area = footprint.sum()
        on = footprint.astype(bool)
        if (area == 0 or allowed[on].mean() < min_inside
                or self.taken[on].sum() > 0.05 * area):
            return False
        self.taken |= footprint
        bg = self.painter.img[on].mean(0)
        getattr(self.painter, name.replace('-', '_'))(rbox, bg)
        if name in SYNTHETIC_CLASSES:
            self.rboxes.append(rbox)
            self.labels.append(SYNTHETIC_CLASSES.index(name))
        return True

    def pixel(self, region: np.ndarray) -> Optional[np.ndarray]:
        """A random pixel centre inside ``region``, or None if empty."""
        ys, xs = np.nonzero(region)
        if len(xs) == 0:
            return None
        i = self.rng.integers(len(xs))
        return np.array([xs[i], ys[i]], np.float64) + 0.5


def render_scene(rng: np.random.Generator, size: int) -> SyntheticScene:
    """Render one synthetic aerial image with its rotated boxes.

    Args:
        rng (np.random.Generator): The only source of randomness.
        size (int): Image height and width in pixels.

    Returns:
        SyntheticScene: The image, labels and layout masks.
    """
    layout = render_layout(rng, size)
    canvas = np.clip(layout.image, 0, 255).astype(np.uint8)
    placer = _Placer(canvas, rng, size / 256)
    _populate(placer, layout)
    noisy = canvas + rng.normal(0, rng.uniform(2, 6), canvas.shape)
    image = cv2.GaussianBlur(
        np.clip(noisy, 0, 255).astype(np.uint8), (3, 3), 0.6)
    rboxes = np.array(placer.rboxes, np.float64).reshape(-1, 5)
    return SyntheticScene(image, rboxes, np.array(placer.labels, np.int64),
                          layout.water, layout.road_mask, layout.airfield)


def _populate(placer: _Placer, layout: Layout) -> None:
    """Place objects in context, large ones first, then clutter."""
    rng, size, land = placer.rng, placer.size, layout.land

    def tries(lo: int, hi: int) -> range:  # attempts grow with image area
        return range(int(rng.integers(lo, hi) * max(placer.scale**2, .5)))

    runway, apron = layout.runway, layout.apron
    if runway is not None:
        along = np.array([np.cos(runway.angle), np.sin(runway.angle)])
        for _ in tries(3, 10):
            if rng.random() < 0.4:  # taxiing on the runway centre line
                t = rng.uniform(-0.5, 0.5) * size
                heading = runway.angle + np.pi * rng.integers(2)
                centre = runway.point + t * along
            else:  # parked on the apron, any heading
                centre = placer.pixel(apron)
                heading = rng.uniform(0, 2 * np.pi)
            if centre is not None:
                placer.place('plane', centre, heading, layout.airfield, 0.4)
    kernel = np.ones((5, 5), np.uint8)
    inner = cv2.erode(layout.water.astype(np.uint8), kernel)
    for _ in tries(3, 10) if inner.any() else ():
        placer.place('ship', placer.pixel(inner), rng.uniform(0, 2 * np.pi),
                     layout.water, 1.0)
    open_land = cv2.erode(land.astype(np.uint8), np.ones((9, 9), np.uint8))
    if open_land.any() and rng.random() < 0.5:  # a tank farm
        origin, angle = placer.pixel(open_land), rng.uniform(0, np.pi)
        step = rng.uniform(36, 44) * max(placer.scale, 0.75)
        rot = np.array([[np.cos(angle), -np.sin(angle)],
                        [np.sin(angle), np.cos(angle)]])
        for i, j in np.ndindex(rng.integers(1, 4), rng.integers(1, 4)):
            centre = origin + rot @ (step * np.array([i, j]))
            placer.place('storage-tank', centre, 0.0, land, 0.99)
    for _ in tries(0, 3) if open_land.any() else ():
        placer.place('storage-tank', placer.pixel(open_land), 0.0, land, 0.99)
    for road in layout.roads:
        direction = np.array([np.cos(road.angle), np.sin(road.angle)])
        normal = np.array([-direction[1], direction[0]])
        for name, lo, hi in _ROAD_TRAFFIC:
            for _ in tries(lo, hi):
                lane = rng.choice([-1, 1])  # right-hand traffic
                centre = (
                    road.point + rng.uniform(-0.7, 0.7) * size * direction +
                    lane * road.width / 4 * normal)
                heading = road.angle + (np.pi if lane < 0 else 0.0)
                placer.place(name, centre, heading, road.mask, 0.95)
    angles = [road.angle for road in layout.roads]
    angles = angles or [rng.uniform(0, np.pi)]
    for _ in tries(0, 12) if open_land.any() else ():
        placer.place('building', placer.pixel(open_land),
                     angles[rng.integers(len(angles))], land, 1.0)
