"""Panels that show what DKD distils on one image.

* :func:`level_panel`: per FPN level, the image with its GT boxes and the
  GD maps of ``DynamicGlobalDistillLoss.compute_maps`` (foreground mask,
  teacher spatial attention, dynamic background weights, teacher-student
  discrepancy and the per-cell GD weight
  ``A_s * (alpha * M_fg + beta * M_bg)``), upsampled onto the image.
* :func:`isd_panel`: the teacher's ISD candidates coloured by the
  selection ``InstanceSelectionDistillLoss.select`` made, with the
  student's own detections; returns what it drew so callers (and tests)
  can check it against the selection.
"""
import math
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from dkd_mm.functional import Selection
from .drawing import (WHITE, Colour, as_numpy, box_corners, draw_boxes, grid,
                      heatmap, legend, overlay, put_text, resized, scale_boxes,
                      titled)

ISD_COLOURS: Dict[str, Colour] = dict(  # BGR
    selected=(0, 200, 0),
    outlier=(0, 0, 255),
    not_better=(0, 200, 255),
    false_positive=(160, 160, 160),
    student=(255, 120, 0),
    gt=WHITE)
ISD_LABELS = dict(
    selected='selected',
    outlier='outlier',
    not_better='student better',
    false_positive='false pos.',
    student='student',
    gt='GT')
# Drawn in this order, so a selected box stays on top of a rejected one.
TEACHER_KINDS = ('false_positive', 'not_better', 'outlier', 'selected')


class DrawnBox(NamedTuple):
    """One box an ISD panel drew, in the panel's (scaled) pixels."""
    kind: str
    box: np.ndarray
    colour: Colour
    weight: Optional[float] = None


def level_name(feat_size: Sequence[int],
               batch_input_shape: Sequence[int]) -> str:
    """``'P<l>'`` with ``l = log2(stride)``, e.g. ``'P3'`` for stride 8."""
    stride = batch_input_shape[0] / feat_size[0]
    return f'P{int(round(math.log2(stride)))}'


def level_panel(image: np.ndarray,
                maps: Dict[str, object],
                gt_boxes=None,
                alpha: float = 1.0,
                beta: float = 1.0,
                cols: int = 3,
                scale: float = 1.0) -> np.ndarray:
    """The GD maps of one image on one level, tiled under titles.

    Args:
        image (np.ndarray): ``(H, W, 3)`` BGR image of the padded input.
        maps (dict): ``fg_mask``, ``spatial_attn_t``, ``bg_weight`` and
            ``discrepancy``, each ``(h, w)`` for this image and level.
        gt_boxes: ``(K, 4|5)`` GT boxes in ``image`` pixels, or None.
        alpha (float): GD's foreground weight, for the combined map.
            Defaults to 1.0.
        beta (float): GD's background weight. Defaults to 1.0.
        cols (int): Panels per row. Defaults to 3 (a 2 x 3 grid).
        scale (float): Resize factor of each panel. Defaults to 1.0.

    Returns:
        np.ndarray: ``(rows * (h + 18), cols * w, 3)`` uint8 BGR, with
        ``(h, w)`` the image size times ``scale``.
    """
    fg, attn = as_numpy(maps['fg_mask']), as_numpy(maps['spatial_attn_t'])
    bg, disc = as_numpy(maps['bg_weight']), as_numpy(maps['discrepancy'])
    layers = [
        ('fg mask M_fg', fg),
        ('teacher attn A_s', attn),
        ('dyn. bg M_bg', bg),
        ('discrepancy D', disc),
        ('GD weight', attn * (alpha * fg + beta * bg)),
    ]
    boxes = np.zeros((0, 4))
    if gt_boxes is not None:
        boxes = scale_boxes(gt_boxes, scale)
    image = resized(image, scale)
    size = image.shape[:2]
    shown = draw_boxes(image.copy(), boxes, ISD_COLOURS['selected'], 2)
    panels = [titled(shown, f'image + GT ({len(boxes)})')]
    for title, values in layers:
        panel = overlay(image, heatmap(values, size))
        draw_boxes(panel, boxes, WHITE, 1)
        peak = values.max() if values.size else 0.0
        panels.append(titled(panel, f'{title}, max {peak:.2g}'))
    return grid(panels, cols)


def candidate_kinds(selection: Selection) -> List[str]:
    """Each candidate's kind: selected, outlier, false_positive or
    not_better (matched, no outlier, but the student is as good)."""
    masks = [('selected', selection.selected.tolist()),
             ('outlier', selection.outlier.tolist()),
             ('false_positive', selection.false_positive.tolist())]
    return [
        next((kind for kind, mask in masks if mask[i]), 'not_better')
        for i in range(len(selection.selected))
    ]


def isd_panel(image: np.ndarray,
              candidates,
              selection: Selection,
              student_preds=None,
              gt_boxes=None,
              student_score_thr: float = 0.3,
              scale: float = 1.0,
              title: str = 'ISD') -> Tuple[np.ndarray, List[DrawnBox]]:
    """Teacher candidates coloured by the ISD selection, student boxes thin.

    Args:
        image (np.ndarray): ``(H, W, 3)`` BGR image, boxes' frame.
        candidates: One image's candidates (``bboxes`` ``(K, 4|5)``).
        selection (Selection): Their selection, ``K`` long.
        student_preds: The student's detections (``bboxes``, ``scores``),
            drawn thin in blue if their score >= ``student_score_thr``.
        gt_boxes: GT boxes, drawn thin in white, or None.
        student_score_thr (float): Defaults to 0.3 (ISD's teacher default).
        scale (float): Resize factor of the panel. Defaults to 1.0.
        title (str): Start of the title bar. Defaults to 'ISD'.

    Returns:
        tuple[np.ndarray, list[DrawnBox]]: The panel ``(18 + scale * H +
        legend, scale * W, 3)`` and every box drawn, in drawing order.
    """
    cand_boxes = scale_boxes(candidates.bboxes, scale)
    if len(cand_boxes) != len(selection.selected):
        raise ValueError(f'{len(cand_boxes)} candidates but a selection of '
                         f'{len(selection.selected)}')
    kinds = candidate_kinds(selection)
    weights = as_numpy(selection.weights)
    panel = resized(image, scale)
    drawn: List[DrawnBox] = []
    if gt_boxes is not None:
        gt = scale_boxes(gt_boxes, scale)
        draw_boxes(panel, gt, ISD_COLOURS['gt'], 1)
        drawn += [DrawnBox('gt', b, ISD_COLOURS['gt']) for b in gt]
    for kind in TEACHER_KINDS:
        for i in (i for i, k in enumerate(kinds) if k == kind):
            weight = float(weights[i]) if kind == 'selected' else None
            drawn.append(
                DrawnBox(kind, cand_boxes[i], ISD_COLOURS[kind], weight))
            draw_boxes(panel, cand_boxes[i:i + 1], ISD_COLOURS[kind], 2)
    for box in drawn:
        if box.weight is not None:
            top = box_corners(box.box[None])[0]
            x, y = top[np.argmin(top[:, 1])]
            put_text(panel, f'{box.weight:.2f}', (x + 2, max(y - 5, 9)),
                     ISD_COLOURS['selected'])
    if student_preds is not None:
        keep = as_numpy(student_preds.scores) >= student_score_thr
        student = scale_boxes(student_preds.bboxes, scale)[keep]
        draw_boxes(panel, student, ISD_COLOURS['student'], 1)
        drawn += [
            DrawnBox('student', b, ISD_COLOURS['student']) for b in student
        ]
    counts = {k: sum(d.kind == k for d in drawn) for k in ISD_LABELS}
    entries = [(f'{ISD_LABELS[k]} {counts[k]}', ISD_COLOURS[k])
               for k in ISD_LABELS]
    head = f'{title}: {len(kinds)} teacher candidates'
    out = np.concatenate(
        [titled(panel, head),
         legend(panel.shape[1], entries)], axis=0)
    return out, drawn
