"""GD's foreground masks, timed for bench/cost.py's table: dkd_mm's
windowed code, the former every-cell test and a per-box polygon-fill
reference written here, with identical masks asserted.
"""
import time
from typing import Dict

import numpy as np
import torch


def _all_cells_mask(boxes: torch.Tensor, feat_size, strides) -> torch.Tensor:
    """dkd_mm's former ``foreground_mask``, kept for this table only: every
    box against every cell, a dense ``(K, H * W)`` test."""
    from dkd_mm.functional import box_areas, cell_centers, points_in_boxes
    if boxes.size(0) == 0:
        return boxes.new_zeros(feat_size)
    points = cell_centers(feat_size, strides, boxes.device, boxes.dtype)
    inside = points_in_boxes(points, boxes)  # (K, H * W)
    inv_area = 1.0 / (box_areas(boxes) /
                      (strides[0] * strides[1])).clamp(min=1.0)
    mask = torch.where(inside, inv_area[:, None], inv_area.new_zeros(()))
    return mask.amax(dim=0).reshape(feat_size)


def _per_box_mask(boxes: torch.Tensor, feat_size, stride: int) -> np.ndarray:
    """The reference: one matplotlib polygon fill per box, in float64."""
    from matplotlib.path import Path

    from dkd_mm.functional import cell_centers
    height, width = feat_size
    centers = cell_centers(feat_size,
                           (stride, stride)).numpy().astype(np.float64)
    mask = np.zeros(height * width)
    for cx, cy, bw, bh, a in boxes.double().numpy():
        c, si = np.cos(a), np.sin(a)
        corners = np.array([[-bw, -bh], [bw, -bh], [bw, bh], [-bw, bh]
                            ]) / 2 @ np.array([[c, si], [-si, c]])
        inside = Path(corners + [cx, cy]).contains_points(centers)
        area = max(bw * bh / (stride * stride), 1.0)
        mask[inside] = np.maximum(mask[inside], 1.0 / area)
    return mask.reshape(height, width)


def _median_seconds(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def mask_benchmark(num_boxes: int = 500,
                   size: int = 1024,
                   repeats: int = 5) -> Dict:
    """GD masks of ``num_boxes`` random rotated boxes over 5 FPN levels
    (strides 8 to 128) of a ``size`` px input: dkd_mm's windowed
    ``foreground_mask``, the former every-box-every-cell test and a per-box
    polygon-fill reference; the median of ``repeats`` timed runs each."""
    from dkd_mm.functional import foreground_mask
    rng = np.random.RandomState(0)
    boxes = torch.tensor(
        np.stack([
            rng.uniform(0, size, num_boxes),
            rng.uniform(0, size, num_boxes),
            rng.uniform(8, 120, num_boxes),
            rng.uniform(8, 60, num_boxes),
            rng.uniform(-np.pi / 2, np.pi / 2, num_boxes)
        ], 1),
        dtype=torch.float32)
    levels = [(size // s, size // s, s) for s in (8, 16, 32, 64, 128)]

    def windowed():
        return [foreground_mask(boxes, (h, w), (s, s)) for h, w, s in levels]

    def all_cells():
        return [_all_cells_mask(boxes, (h, w), (s, s)) for h, w, s in levels]

    def per_box():
        return [_per_box_mask(boxes, (h, w), s) for h, w, s in levels]

    ours, dense, reference = windowed(), all_cells(), per_box()
    mismatched = sum(
        int((np.abs(o.numpy() - r) > 1e-5).sum())
        for o, r in zip(ours, reference))
    return dict(
        boxes=num_boxes,
        windowed_s=_median_seconds(windowed, repeats),
        all_cells_s=_median_seconds(all_cells, repeats),
        per_box_s=_median_seconds(per_box, repeats),
        identical_to_all_cells=all(
            torch.equal(o, d) for o, d in zip(ours, dense)),
        mismatched_cells=mismatched,
        cells=sum(h * w for h, w, _ in levels))


# (label, mask_benchmark key, identical column) of the GD mask table.
MASK_ROWS = (('windowed (dkd_mm)', 'windowed_s',
              'yes'), ('all cells (former dkd_mm)', 'all_cells_s', 'yes'),
             ('per-box polygon fill', 'per_box_s', 'reference'))
