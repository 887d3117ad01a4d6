"""Write a small, seeded data set in the NWPU VHR-10 release layout.

Textured JPEG images with filled rectangles, one colour and aspect ratio per
class (all 10 appear when there are 4 or more positives), for tests and
demos; not a substitute for the real data.  Files of the same name in OUT
are replaced, others left alone::

    OUT/positive image set/001.jpg ...  OUT/negative image set/001.jpg ...
    OUT/ground truth/001.txt ...        # '(x1,y1),(x2,y2),c', blank line

Example:
    python tools/data/nwpu/make_sample.py data/nwpu_sample \\
        --num-pos 12 --num-neg 3 --seed 0
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np

# BGR colour and (width, height) in pixels at --img-size 256, per class id.
CLASS_LOOKS = [((40, 40, 200), (36, 36)), ((200, 60, 40), (40, 14)),
               ((220, 220, 220), (22, 22)), ((60, 160, 60), (44, 44)),
               ((200, 160, 40), (24, 44)), ((40, 200, 200), (30, 48)),
               ((140, 40, 140), (70, 44)), ((90, 90, 90), (60, 30)),
               ((30, 120, 200), (76, 12)), ((230, 120, 220), (12, 18))]
DIRS = ('positive image set', 'negative image set', 'ground truth')


def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Low-frequency colour texture plus pixel noise, uint8 ``(h, w, 3)``."""
    coarse = rng.uniform(60, 160, (6, 6, 3)).astype(np.float32)
    img = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    img += rng.normal(0, 12, (h, w, 3)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _apart(a: tuple, b: tuple, gap: int = 3) -> bool:
    """Whether boxes ``(x1, y1, x2, y2, ...)`` are ``gap`` pixels apart."""
    return (a[2] + gap < b[0] or b[2] + gap < a[0] or a[3] + gap < b[1]
            or b[3] + gap < a[1])


def place_boxes(rng: np.random.Generator, h: int, w: int, classes: List[int],
                scale: float) -> List[Tuple[int, int, int, int, int]]:
    """Non-overlapping ``(x1, y1, x2, y2, class_id)`` inside the image;
    a class that finds no room after 50 tries is left out."""
    boxes: List[Tuple[int, int, int, int, int]] = []
    for cls in classes:
        bw, bh = (max(4, round(s * scale)) for s in CLASS_LOOKS[cls - 1][1])
        for _ in range(50):
            x1 = int(rng.integers(2, w - bw - 2))
            y1 = int(rng.integers(2, h - bh - 2))
            box = (x1, y1, x1 + bw, y1 + bh, cls)
            if all(_apart(box, other) for other in boxes):
                boxes.append(box)
                break
    return boxes


def render(rng: np.random.Generator, img_size: int,
           classes: List[int]) -> Tuple[np.ndarray, list]:
    """One image (BGR) with ``classes`` drawn, and its boxes."""
    h = int(rng.integers(img_size * 3 // 4, img_size + 1))
    w = int(rng.integers(img_size * 3 // 4, img_size + 1))
    img = background(rng, h, w)
    boxes = place_boxes(rng, h, w, classes, img_size / 256)
    for x1, y1, x2, y2, cls in boxes:
        colour = CLASS_LOOKS[cls - 1][0]
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), colour, -1)
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1),
                      tuple(c // 2 for c in colour), 1)
    return img, boxes


def make_nwpu_sample(out_dir: str,
                     num_pos: int = 12,
                     num_neg: int = 3,
                     seed: int = 0,
                     img_size: int = 256,
                     progress: bool = True) -> dict:
    """Write the sample; the same arguments give the same files.

    Args:
        out_dir (str): Root of the release layout.
        num_pos (int): Positive images. Defaults to 12.
        num_neg (int): Negative images. Defaults to 3.
        seed (int): Seed of every random draw. Defaults to 0.
        img_size (int): Largest image side (each side is drawn from
            ``[0.75, 1] * img_size``), at least 128. Defaults to 256.
        progress (bool): Show an mmengine progress bar. Defaults to True.

    Returns:
        dict: ``out_dir``, ``num_pos``, ``num_neg`` and ``num_objects``
        (per class id 1..10).
    """
    if img_size < 128 or num_pos < 0 or num_neg < 0:
        raise ValueError('need img_size >= 128 and counts >= 0')
    pos_dir, neg_dir, gt_dir = (osp.join(out_dir, d) for d in DIRS)
    for folder in (pos_dir, neg_dir, gt_dir):
        os.makedirs(folder, exist_ok=True)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(num_pos + num_neg)
    counts = [0] * 10
    for index in range(num_pos + num_neg):
        negative = index >= num_pos
        i = index - num_pos if negative else index
        rng = np.random.default_rng([seed, int(negative), i])
        # Three classes per positive image cycle through all ten.
        classes = [] if negative else [(3 * i + k) % 10 + 1 for k in range(3)]
        img, boxes = render(rng, img_size, classes)
        stem = f'{i + 1:03d}'
        path = osp.join(neg_dir if negative else pos_dir, stem + '.jpg')
        if not cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 92]):
            raise OSError(f'cv2 could not write {path}')
        if not negative:
            lines = [
                f'({x1},{y1}),({x2},{y2}),{c}' for x1, y1, x2, y2, c in boxes
            ]
            with open(osp.join(gt_dir, stem + '.txt'), 'w') as f:
                f.write('\n'.join(lines) + '\n\n')
            for box in boxes:
                counts[box[4] - 1] += 1
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.file.write('\n')
    return dict(
        out_dir=out_dir,
        num_pos=num_pos,
        num_neg=num_neg,
        num_objects=dict(enumerate(counts, 1)))


def main(argv: Optional[List[str]] = None) -> dict:
    """Command line entry; ``argv`` defaults to ``sys.argv[1:]``."""
    parser = argparse.ArgumentParser(
        description='Write a small NWPU VHR-10 format sample.')
    parser.add_argument('out', help='output root')
    parser.add_argument('--num-pos', type=int, default=12)
    parser.add_argument('--num-neg', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    result = make_nwpu_sample(args.out, args.num_pos, args.num_neg, args.seed,
                              args.img_size, not args.no_progress)
    print(f"wrote {result['num_pos']} positive and {result['num_neg']} "
          f"negative images to {args.out}; objects per class id: "
          f"{result['num_objects']}")
    return result


if __name__ == '__main__':
    main()
