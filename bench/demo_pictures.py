"""The main job's pictures of one test image: what DKD distils on it, and
the plain and the DKD student's detections side by side.

Both come from the tools, run as stages (:func:`bench.runs.run`), in
``<work-dir>/pictures/``:

* ``tools/analysis/vis_distill.py`` on the DKD run (its config,
  checkpoint, training options and teacher checkpoint): GD's masks and
  weights per FPN level, ``<stem>_P<l>.png``, and ISD's selection,
  ``<stem>_isd.png``;
* ``tools/analysis/image_demo.py`` once per student (``plain_student.png``,
  ``dkd_student.png``, detections with a score of at least the same
  threshold), then :func:`side_by_side`: the two next to each other under
  a label each, the ground truth outlined in white on both,
  ``students_side_by_side.png``.

Each group is skipped when its pictures exist for the same settings (as
the runs are: :func:`bench.runs.settings_hash`, plus the tools' source).
A group that fails is a warning, not the job's end: the table is the job's
output.
"""
import glob
import json
import os
import os.path as osp
import re
import sys
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

from bench import runs
from dkd_mm_data.labels import LabelIssues, read_dota_labels

SCORE_THR = 0.3  # tools/analysis/image_demo.py's default
SIDE_BY_SIDE = 'students_side_by_side.png'
# Panels are enlarged by an integer factor to at least this width, so that
# a label fits over a 128 px image of the tiny split.
MIN_PANEL_WIDTH = 384
LABEL_HEIGHT = 24
GT_COLOUR = (255, 255, 255)  # BGR; the classes' palette has no white
# What a picture depends on beyond the runs and the package
# (runs.source_hash).
TOOLS = ('tools/analysis/vis_distill.py', 'tools/analysis/image_demo.py',
         'bench/demo_pictures.py')


class Run(NamedTuple):
    """A trained model: its label, config, checkpoint and the
    ``--cfg-options`` it trained with."""
    name: str
    config: str
    checkpoint: str
    options: List[str]


class Picture(NamedTuple):
    """A written picture: what it shows, and its path."""
    what: str
    path: str


def first_test_image(data_root: str) -> Tuple[str, str]:
    """The test split's first image (by name) and its DOTA label file."""
    folder = osp.join(data_root, 'test', 'images')
    names = sorted(os.listdir(osp.join(runs.ROOT, folder)))
    if not names:
        raise FileNotFoundError(f'no image in {folder}')
    stem = osp.splitext(names[0])[0]
    return (osp.join(folder, names[0]),
            osp.join(data_root, 'test', 'annfiles', stem + '.txt'))


def label_band(width: int, text: str) -> np.ndarray:
    """A black ``(LABEL_HEIGHT, width, 3)`` band with ``text`` in white;
    the font shrinks (down to a floor) so that the text fits."""
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5
    text_width = cv2.getTextSize(text, font, scale, 1)[0][0]
    if text_width > width - 8:
        scale = max(0.3, scale * (width - 8) / text_width)
    band = np.zeros((LABEL_HEIGHT, width, 3), np.uint8)
    cv2.putText(band, text, (4, LABEL_HEIGHT - 8), font, scale,
                (255, 255, 255), 1, cv2.LINE_AA)
    return band


def side_by_side(panels: Sequence[np.ndarray],
                 labels: Sequence[str],
                 polygons: Optional[np.ndarray] = None,
                 min_width: int = MIN_PANEL_WIDTH) -> np.ndarray:
    """Pictures of one image next to each other, each under its label.

    Args:
        panels (Sequence[np.ndarray]): ``(H, W_i, 3)`` uint8 BGR, of one
            height.
        labels (Sequence[str]): One per panel.
        polygons (np.ndarray, optional): ``(K, 4, 2)`` corners ``(x, y)``
            in the panels' pixels, outlined in white on each (the ground
            truth). Defaults to None.
        min_width (int): Each panel is enlarged by the smallest integer
            factor ``f`` that makes it this wide (nearest neighbour, so the
            drawn pixels stay sharp). Defaults to :data:`MIN_PANEL_WIDTH`.

    Returns:
        np.ndarray: ``(LABEL_HEIGHT + f * H, f * sum(W_i), 3)`` uint8.
    """
    if len(panels) != len(labels) or not panels:
        raise ValueError(f'{len(panels)} panels for {len(labels)} labels')
    if len({p.shape[0] for p in panels}) != 1:
        raise ValueError('panels of different heights: '
                         f'{[p.shape[:2] for p in panels]}')
    factor = max(1, -(-min_width // min(p.shape[1] for p in panels)))
    columns = []
    for panel, label in zip(panels, labels):
        big = cv2.resize(
            panel, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)
        if polygons is not None and len(polygons):
            corners = np.round(np.asarray(polygons) * factor)
            cv2.polylines(big, list(corners.astype(np.int32)), True, GT_COLOUR,
                          1)
        columns.append(
            np.concatenate([label_band(big.shape[1], label), big], axis=0))
    return np.concatenate(columns, axis=1)


def distill_pictures(dkd: Run, teacher_ckpt: str, image: str, data_root: str,
                     out_dir: str) -> List[Picture]:
    """vis_distill.py's GD and ISD panels of ``image``, a test image."""
    # The test split as the tool's val set: the image comes with its
    # ground truth, which GD's foreground and ISD's matching need.
    test_split = [
        f'val_dataloader.dataset.data_root={data_root}/',
        'val_dataloader.dataset.ann_file=test/annfiles/',
        'val_dataloader.dataset.data_prefix.img_path=test/images/'
    ]
    runs.run([
        sys.executable, '-m', 'tools.analysis.vis_distill', dkd.config,
        dkd.checkpoint, '--images', image, '--out-dir', out_dir,
        '--teacher-ckpt', teacher_ckpt, '--cfg-options'
    ] + dkd.options + test_split,
             osp.join(runs.ROOT, out_dir, 'vis_distill.log'))
    stem = osp.join(out_dir, osp.splitext(osp.basename(image))[0])
    levels = sorted(
        osp.basename(path)[len(osp.basename(stem)) + 1:-len('.png')]
        for path in glob.glob(osp.join(runs.ROOT, stem + '_P*.png')))
    pictures = [
        Picture(f'GD masks and weights, {level}', f'{stem}_{level}.png')
        for level in levels
    ] + [Picture('ISD selection', stem + '_isd.png')]
    missing = [p.path for p in pictures if not _exists(p.path)]
    if missing or len(pictures) == 1:
        raise FileNotFoundError(f'vis_distill.py wrote no {missing or "GD"}'
                                ' picture')
    return pictures


def student_pictures(students: Sequence[Run], image: str, label_file: str,
                     out_dir: str, score_thr: float) -> List[Picture]:
    """image_demo.py's detections of each student on ``image``, side by
    side, with the ground truth of ``label_file``."""
    panels, labels = [], []
    for run in students:
        name = run.name.replace(' ', '_').lower()
        drawn = osp.join(out_dir, f'{name}.png')
        log = osp.join(runs.ROOT, out_dir, f'image_demo_{name}.log')
        runs.run([
            sys.executable, '-m', 'tools.analysis.image_demo', run.config,
            run.checkpoint, image, '--out-file', drawn, '--score-thr',
            str(score_thr), '--cfg-options'
        ] + run.options, log)
        with open(log) as f:
            kept = re.search(r'(\d+) detections with score >=', f.read())
        panel = cv2.imread(osp.join(runs.ROOT, drawn))
        if kept is None or panel is None:
            raise FileNotFoundError(f'image_demo.py drew no {drawn}')
        panels.append(panel)
        labels.append(f'{run.name}: {kept.group(1)} detections, score >= '
                      f'{score_thr}')
    truth = read_dota_labels(
        osp.join(runs.ROOT, label_file), LabelIssues('error'))
    picture = side_by_side(panels, labels, truth.polys.reshape(-1, 4, 2))
    path = osp.join(out_dir, SIDE_BY_SIDE)
    if not cv2.imwrite(osp.join(runs.ROOT, path), picture):
        raise OSError(f'could not write {path}')
    return [
        Picture(
            f'{" vs ".join(r.name for r in students)}, detections with '
            f'score >= {score_thr} (ground truth in white)', path)
    ]


def make_pictures(
        dkd: Run,
        plain: Run,
        teacher_ckpt: str,
        data_root: str,
        out_dir: str,
        score_thr: float = SCORE_THR) -> Tuple[List[Picture], List[str]]:
    """Write the pictures of the first test image into ``out_dir``.

    Returns:
        tuple[list[Picture], list[str]]: The pictures written or cached,
        and a warning for each group that failed.
    """
    os.makedirs(osp.join(runs.ROOT, out_dir), exist_ok=True)
    try:
        image, label_file = first_test_image(data_root)
    except OSError as exc:
        return [], [f'WARNING: no pictures: {exc}']
    groups: List[Tuple[str, list, Callable[[], List[Picture]]]] = [
        ('distillation pictures', [dkd, teacher_ckpt, image],
         lambda: distill_pictures(dkd, teacher_ckpt, image, data_root, out_dir)
         ),
        ('side-by-side picture', [plain, dkd, image, score_thr],
         lambda: student_pictures([plain, dkd], image, label_file, out_dir,
                                  score_thr)),
    ]
    record = osp.join(runs.ROOT, out_dir, 'done.json')
    done = {}
    if osp.isfile(record):
        with open(record) as f:
            done = json.load(f)
    pictures, warnings = [], []
    for what, parts, make in groups:
        key = runs.settings_hash(*parts, runs.files_hash(TOOLS))
        cached = [Picture(*p) for p in done.get(what, {}).get(key, [])]
        if cached and all(_exists(p.path) for p in cached):
            print(f'[{out_dir}] cached: {what}', flush=True)
            pictures += cached
            continue
        print(f'[{out_dir}] drawing the {what}', flush=True)
        try:
            made = make()
        # runs.run ends a failed stage with SystemExit
        except (Exception, SystemExit) as exc:
            warnings.append(f'WARNING: no {what}: {type(exc).__name__}: '
                            f'{exc}')
            print(warnings[-1], flush=True)
            continue
        done[what] = {key: made}
        with open(record, 'w') as f:
            json.dump(done, f, indent=1)
        pictures += made
    return pictures, warnings


def _exists(path: str) -> bool:
    return osp.isfile(osp.join(runs.ROOT, path))
