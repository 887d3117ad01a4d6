"""Background layout for the synthetic DOTA-style data set (numpy + cv2).

Textured land with, by chance, a water body (coast, lake or river), an
airfield (runway plus a parallel apron) and up to three roads.  The masks
of these regions tell :mod:`.scene` where each object class may go.
Sizes are given for a 256-pixel image and scale with it.
"""
from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Tuple

import cv2
import numpy as np

_LAND_TONES = np.array([[96, 112, 70], [120, 125, 80], [140, 125, 95],
                        [112, 106, 94], [80, 100, 65], [150, 140, 110]],
                       np.float64)


class Strip(NamedTuple):
    """A straight band (runway or road) across the image."""
    point: np.ndarray  # (2,) a point on its centre line
    angle: float  # direction of the centre line, radians
    width: float  # pixels
    mask: np.ndarray  # (H, W) bool, where it is drawn


def _smooth_noise(rng: np.random.Generator,
                  size: int,
                  cells: int,
                  channels: int = 1) -> np.ndarray:
    """Zero-mean value noise in about ``[-0.5, 0.5]``, ``(S, S, C)``."""
    grid = rng.random((cells, cells, channels), dtype=np.float32)
    out = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    return out.reshape(size, size, channels) - 0.5


def _frame(xy: np.ndarray, point: np.ndarray,
           angle: float) -> Tuple[np.ndarray, np.ndarray]:
    """Along / across coordinates of pixel centres relative to a line."""
    dx, dy = xy[0] - point[0], xy[1] - point[1]
    c, s = np.cos(angle), np.sin(angle)
    return dx * c + dy * s, dy * c - dx * s


def _land(rng: np.random.Generator, xy: np.ndarray, size: int,
          scale: float) -> np.ndarray:
    """Fields, gradients, tree blobs and noise on a random land tone."""
    base = (
        _LAND_TONES[rng.integers(len(_LAND_TONES))] + rng.uniform(-15, 15) +
        rng.uniform(-5, 5, 3))
    img = base + 45 * _smooth_noise(rng, size, 4) + 12 * _smooth_noise(
        rng, size, 6, 3)
    ramp = _frame(xy, xy[:, 0, 0], rng.uniform(0, 2 * np.pi))[0] / size
    img += rng.uniform(-20, 20) * ramp[..., None]
    for _ in range(rng.integers(2, 7)):
        along, across = _frame(xy, rng.uniform(0, size, 2),
                               rng.uniform(0, np.pi))
        half = rng.uniform(0.08, 0.3, 2) * size
        field = (np.abs(along) < half[0]) & (np.abs(across) < half[1])
        rows = np.sign(np.sin(along * 2 * np.pi / rng.uniform(3, 8) / scale))
        tone = rng.uniform(-30, 30) + rng.uniform(-10, 10, 3)
        tone = tone + rng.uniform(0, 8) * rows[..., None]
        img += field[..., None] * tone
    for _ in range(int(rng.integers(5, 30) * scale**2)):
        centre = tuple(float(c) for c in rng.uniform(0, size, 2))
        cv2.circle(img, tuple(int(c) for c in centre),
                   int(rng.uniform(1.5, 5) * scale + 1),
                   _tuple(base * rng.uniform(0.45, 0.7)), -1)
    return img


def _tuple(colour: np.ndarray) -> tuple:
    return tuple(float(c) for c in colour)


def _water(rng: np.random.Generator, xy: np.ndarray, size: int) -> np.ndarray:
    """A coast, a lake or a river with a wobbly shore, ``(S, S)`` bool."""
    wobble = 0.25 * size * _smooth_noise(rng, size, 5)[..., 0]
    kind = rng.integers(3)
    along, across = _frame(xy,
                           rng.uniform(0.3, 0.7, 2) * size,
                           rng.uniform(0, 2 * np.pi))
    if kind == 0:
        return across + wobble > rng.uniform(-0.1, 0.25) * size
    if kind == 1:
        radii = rng.uniform(0.25, 0.45, 2) * size
        return (along / radii[0])**2 + (across /
                                        radii[1])**2 < 1 + (2 * wobble / size)
    return np.abs(across + 0.5 * wobble) < rng.uniform(0.12, 0.2) * size


def _strip(rng: np.random.Generator, xy: np.ndarray, size: int,
           width: float) -> Strip:
    point = rng.uniform(0.25, 0.75, 2) * size
    angle = float(rng.uniform(0, np.pi))
    mask = np.abs(_frame(xy, point, angle)[1]) < width / 2
    return Strip(point, angle, width, mask)


def _airfield(rng: np.random.Generator, xy: np.ndarray, size: int,
              scale: float,
              blocked: np.ndarray) -> Optional[Tuple[Strip, np.ndarray]]:
    """A runway and a parallel apron that stay off ``blocked`` pixels."""
    for _ in range(5):
        runway = _strip(rng, xy, size, rng.uniform(18, 26) * scale)
        along, across = _frame(xy, runway.point, runway.angle)
        near = runway.width / 2 + rng.uniform(4, 10) * scale
        side = across * rng.choice([-1, 1])
        apron = ((side > near) & (side < near + rng.uniform(36, 56) * scale)
                 & (np.abs(along) < rng.uniform(0.2, 0.4) * size))
        if ((runway.mask | apron) & blocked).mean() < 0.01:
            return runway._replace(mask=runway.mask & ~blocked), apron
    return None


def _paint(img: np.ndarray, mask: np.ndarray, colour: np.ndarray,
           texture: np.ndarray) -> None:
    img[mask] = colour + texture[mask]


def _markings(img: np.ndarray, xy: np.ndarray, strip: Strip,
              colour: np.ndarray, dash: float, edges: bool) -> None:
    """Dashed centre line and optional edge lines on a strip."""
    along, across = _frame(xy, strip.point, strip.angle)
    dashes = (np.abs(across) < 0.75) & (np.sin(along * np.pi / dash) > 0)
    if edges:
        dashes |= np.abs(np.abs(across) - strip.width / 2 + 2) < 0.6
    img[dashes & strip.mask] = colour


@dataclass
class Layout:
    """The scene before any object is placed.

    Attributes:
        image (np.ndarray): ``(H, W, 3)`` float RGB background.
        water, airfield, road_mask, land (np.ndarray): ``(H, W)`` bool;
            ``airfield`` is runway plus apron, ``land`` is the open land
            off water, roads and the airfield.
        runway (Strip, optional): The runway, if any.
        apron (np.ndarray, optional): ``(H, W)`` bool apron, if any.
        roads (list[Strip]): The roads, clipped to land.
    """
    image: np.ndarray
    water: np.ndarray
    airfield: np.ndarray
    road_mask: np.ndarray
    land: np.ndarray
    runway: Optional[Strip]
    apron: Optional[np.ndarray]
    roads: List[Strip]


def render_layout(rng: np.random.Generator, size: int) -> Layout:
    """Draw land, then water, airfield and roads, each off the others.

    Args:
        rng (np.random.Generator): The only source of randomness.
        size (int): Image height and width in pixels.

    Returns:
        Layout: The background image and its region masks.
    """
    scale = size / 256
    xy = np.indices((size, size), np.float32)[::-1] + 0.5  # (x, y) centres
    img = _land(rng, xy, size, scale)
    water = _water(rng, xy, size) if rng.random() < 0.55 else np.zeros(
        (size, size), bool)
    shore = cv2.distanceTransform((~water).astype(np.uint8), cv2.DIST_L2, 3)
    img[(shore > 0) & (shore < 3 * scale)] = rng.uniform([150, 140, 100],
                                                         [190, 175, 135])
    ripple = 8 * _smooth_noise(rng, size, max(size // 8, 2), 3)
    depth = cv2.distanceTransform(water.astype(np.uint8), cv2.DIST_L2, 3)
    shallow = np.exp(-depth / (6 * scale))[..., None] * np.array([25, 35, 20])
    _paint(img, water, rng.uniform([20, 45, 70], [45, 80, 110]),
           ripple + shallow)

    airfield = np.zeros_like(water)
    made = _airfield(rng, xy, size, scale, water) if rng.random() < 0.4 \
        else None
    runway, apron = made if made is not None else (None, None)
    concrete = 6 * _smooth_noise(rng, size, max(size // 16, 2), 1)
    if made is not None:
        airfield = runway.mask | apron
        _paint(img, apron, rng.uniform(140, 175), concrete)
        _paint(img, runway.mask, rng.uniform(65, 95), concrete)
        _markings(img, xy, runway, np.full(3, 225.), 10 * scale, True)
    roads = [
        _strip(rng, xy, size,
               rng.uniform(20, 26) * max(scale, 0.8))
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3]))
    ]
    blocked = water | cv2.dilate(
        airfield.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    roads = [road._replace(mask=road.mask & ~blocked) for road in roads]
    road_mask = np.zeros_like(water)
    for road in roads:
        road_mask |= road.mask
        _paint(img, road.mask, rng.uniform(55, 85), concrete)
        _markings(img, xy, road, np.array([210., 200., 120.]), 4, False)
    return Layout(img, water, airfield, road_mask, ~(blocked | road_mask),
                  runway, apron, roads)
