"""Write seeded train/val/test split files for NWPU VHR-10.

Positive and negative images are split separately by the same ratios, so
each split keeps their proportion.  Each file lists one entry per line in
the format ``NWPUVHR10Dataset`` reads: ``001`` for a positive image,
``negative/001`` for a negative one, sorted.

Example:
    python tools/data/nwpu/make_split.py "data/NWPU VHR-10 dataset" \\
        --ratios 0.6 0.2 0.2 --seed 0
"""
import argparse
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from dkd_mm.datasets.nwpu import NWPU_DIRS, entry_name
from dkd_mm_data.labels import list_images

SPLITS = ('train', 'val', 'test')


def split_counts(n: int, ratios: Sequence[float]) -> List[int]:
    """Sizes of the splits of ``n`` items: cumulative rounding, so they sum
    to ``n`` and each is within one of ``ratio * n``."""
    edges = np.rint(np.cumsum([0.0, *ratios]) * n).astype(int)
    edges[-1] = n
    return np.diff(edges).tolist()


def make_split(root: str,
               out_dir: Optional[str] = None,
               ratios: Sequence[float] = (0.6, 0.2, 0.2),
               seed: int = 0) -> Dict[str, List[str]]:
    """Split the images under ``root`` and write ``<out_dir>/<split>.txt``.

    Args:
        root (str): The release root (with ``positive image set/`` and
            ``negative image set/``).
        out_dir (str, optional): Where the files go. Defaults to
            ``<root>/splits``.
        ratios (Sequence[float]): Train, val and test fractions, >= 0,
            summing to 1. Defaults to (0.6, 0.2, 0.2).
        seed (int): Seed of the shuffle. Defaults to 0.

    Returns:
        dict[str, list[str]]: The entries of each split.
    """
    if len(ratios) != len(SPLITS) or min(ratios) < 0 or abs(sum(ratios) -
                                                            1) > 1e-6:
        raise ValueError(f'need 3 ratios >= 0 summing to 1, got {ratios}')
    out_dir = out_dir or osp.join(root, 'splits')
    rng = np.random.default_rng(seed)
    splits: Dict[str, List[str]] = {s: [] for s in SPLITS}
    for negative, key in ((False, 'pos_img_path'), (True, 'neg_img_path')):
        folder = osp.join(root, NWPU_DIRS[key])
        stems = sorted(list_images(folder)) if osp.isdir(folder) else []
        if not negative and not stems:
            raise FileNotFoundError(f'no positive images in {folder}')
        order = rng.permutation(len(stems))
        start = 0
        for split, count in zip(SPLITS, split_counts(len(stems), ratios)):
            chosen = order[start:start + count]
            splits[split] += [entry_name(negative, stems[i]) for i in chosen]
            start += count
    os.makedirs(out_dir, exist_ok=True)
    for split, entries in splits.items():
        entries.sort()
        with open(osp.join(out_dir, f'{split}.txt'), 'w') as f:
            f.writelines(e + '\n' for e in entries)
    return splits


def main(argv: Optional[List[str]] = None) -> Dict[str, List[str]]:
    """Command line entry; ``argv`` defaults to ``sys.argv[1:]``."""
    parser = argparse.ArgumentParser(
        description='Write seeded NWPU VHR-10 split files.')
    parser.add_argument('root', help='NWPU VHR-10 release root')
    parser.add_argument('--out', help='output folder (default ROOT/splits)')
    parser.add_argument(
        '--ratios',
        type=float,
        nargs=3,
        default=(0.6, 0.2, 0.2),
        metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    splits = make_split(args.root, args.out, args.ratios, args.seed)
    for split, entries in splits.items():
        negatives = sum(e.startswith('negative/') for e in entries)
        print(f'{split}: {len(entries)} images ({negatives} negative)')
    return splits


if __name__ == '__main__':
    main()
