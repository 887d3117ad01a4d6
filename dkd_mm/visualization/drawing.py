"""Plain cv2 drawing: heatmap overlays, box outlines, titled panels.

Images are ``(H, W, 3)`` uint8 BGR arrays, as cv2 reads and writes them.
Boxes follow dkd_mm's conventions (docs/method.md): horizontal ``(K, 4)``
``(x1, y1, x2, y2)``; rotated ``(K, 5)`` ``(cx, cy, w, h, angle)``, the
angle in radians with the ``w`` side along ``(cos, sin)`` (y down).
"""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

Colour = Tuple[int, int, int]  # BGR

FONT = cv2.FONT_HERSHEY_SIMPLEX
TITLE_HEIGHT = 18
WHITE: Colour = (255, 255, 255)
BLACK: Colour = (0, 0, 0)


def as_numpy(array) -> np.ndarray:
    """A float64 numpy copy of a tensor, ``BaseBoxes`` or array."""
    array = getattr(array, 'tensor', array)
    if hasattr(array, 'detach'):
        array = array.detach().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


def box_corners(boxes) -> np.ndarray:
    """The 4 corners of each box, in drawing order.

    Args:
        boxes: ``(K, 4)`` horizontal or ``(K, 5)`` rotated boxes.

    Returns:
        np.ndarray: ``(K, 4, 2)`` corner ``(x, y)`` pixels.
    """
    boxes = as_numpy(boxes)
    if boxes.size == 0:
        return np.zeros((0, 4, 2))
    if boxes.shape[-1] == 4:
        x1, y1, x2, y2 = boxes.T
        return np.stack([
            np.stack([x1, y1], 1),
            np.stack([x2, y1], 1),
            np.stack([x2, y2], 1),
            np.stack([x1, y2], 1)
        ], 1)
    if boxes.shape[-1] != 5:
        raise ValueError(f'boxes must be (K, 4) or (K, 5), got {boxes.shape}')
    centre, (w, h), angle = boxes[:, None, :2], boxes[:, 2:4].T, boxes[:, 4]
    along = np.stack([np.cos(angle), np.sin(angle)], 1) * w[:, None] / 2
    across = np.stack([-np.sin(angle), np.cos(angle)], 1) * h[:, None] / 2
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    offsets = (
        signs[None, :, :1] * along[:, None] +
        signs[None, :, 1:] * across[:, None])
    return centre + offsets


def scale_boxes(boxes, factor: float) -> np.ndarray:
    """Boxes of an image resized by ``factor`` (angles unchanged)."""
    boxes = as_numpy(boxes).copy()
    boxes[:, :4] *= factor
    return boxes


def resized(image: np.ndarray, scale: float) -> np.ndarray:
    """A copy of ``image`` resized by ``scale`` (bilinear)."""
    if scale == 1.0:
        return image.copy()
    height, width = image.shape[:2]
    size = (int(round(width * scale)), int(round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def draw_boxes(image: np.ndarray,
               boxes,
               colour: Colour,
               thickness: int = 1) -> np.ndarray:
    """Draw box outlines onto ``image`` in place; returns ``image``."""
    corners = np.round(box_corners(boxes)).astype(np.int32)
    if len(corners):
        cv2.polylines(image, list(corners), True, colour, thickness)
    return image


def edge_midpoints(boxes) -> np.ndarray:
    """``(K, 4, 2)`` midpoints of the 4 edges of each box."""
    corners = box_corners(boxes)
    return (corners + np.roll(corners, -1, axis=1)) / 2


def put_text(image: np.ndarray,
             text: str,
             origin: Tuple[int, int],
             colour: Colour,
             scale: float = 0.35) -> np.ndarray:
    """Text with a dark outline, readable on any background."""
    x, y = int(origin[0]), int(origin[1])
    cv2.putText(image, text, (x, y), FONT, scale, BLACK, 2, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), FONT, scale, colour, 1, cv2.LINE_AA)
    return image


def heatmap(values,
            size: Tuple[int, int],
            colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """A colour-mapped map scaled to ``[0, max]``, resized to ``size``.

    Args:
        values: ``(h, w)`` non-negative map (tensor or array).
        size (tuple[int, int]): Output ``(H, W)``; cells are upsampled by
            nearest neighbour so the feature grid stays visible.
        colormap (int): A ``cv2.COLORMAP_*``. Defaults to JET.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 BGR.
    """
    values = as_numpy(values)
    peak = values.max() if values.size else 0.0
    scaled = values / peak if peak > 0 else np.zeros_like(values)
    grey = np.clip(scaled * 255, 0, 255).astype(np.uint8)
    grey = cv2.resize(
        grey, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.applyColorMap(grey, colormap)


def overlay(image: np.ndarray,
            layer: np.ndarray,
            alpha: float = 0.6) -> np.ndarray:
    """``alpha * layer + (1 - alpha) * image``, uint8."""
    return cv2.addWeighted(layer, alpha, image, 1 - alpha, 0)


def titled(panel: np.ndarray, title: str) -> np.ndarray:
    """The panel under a black title bar of ``TITLE_HEIGHT`` pixels; the
    font shrinks (down to a floor) so that the title fits the width."""
    scale = 0.4
    width = cv2.getTextSize(title, FONT, scale, 1)[0][0]
    if width > panel.shape[1] - 6:
        scale = max(0.28, scale * (panel.shape[1] - 6) / width)
    bar = np.zeros((TITLE_HEIGHT, panel.shape[1], 3), np.uint8)
    put_text(bar, title, (3, TITLE_HEIGHT - 5), WHITE, scale)
    return np.concatenate([bar, panel], axis=0)


def grid(panels: Sequence[np.ndarray], cols: int) -> np.ndarray:
    """Panels of equal size tiled row by row; blank cells stay black."""
    if not panels:
        raise ValueError('no panel to tile')
    height, width = panels[0].shape[:2]
    rows = -(-len(panels) // cols)
    out = np.zeros((rows * height, cols * width, 3), np.uint8)
    for i, panel in enumerate(panels):
        r, c = divmod(i, cols)
        out[r * height:(r + 1) * height, c * width:(c + 1) * width] = panel
    return out


def legend(width: int,
           entries: List[Tuple[str, Colour]],
           cell_width: int = 128) -> np.ndarray:
    """A legend grid: a colour swatch then its label per entry, as many
    columns of at least ``cell_width`` pixels as ``width`` holds, each row
    ``TITLE_HEIGHT`` high (the size depends on ``width`` only)."""
    cols = max(1, min(len(entries), width // cell_width))
    rows = -(-len(entries) // cols)
    bar = np.zeros((TITLE_HEIGHT * rows, width, 3), np.uint8)
    for i, (label, colour) in enumerate(entries):
        r, c = divmod(i, cols)
        x, y = 3 + c * (width // cols), r * TITLE_HEIGHT
        cv2.rectangle(bar, (x, y + 5), (x + 8, y + 13), colour, -1)
        put_text(bar, label, (x + 11, y + 13), WHITE, 0.33)
    return bar
