"""A small original-format DOTA sample shared by the split and merge tests:
two 300x260 images (.png, .jpg) with header lines and five objects each."""
import os
import os.path as osp
from typing import List

import cv2
import numpy as np

from dkd_mm_data.dota_split import SplitSettings

CLASSES = ('plane', 'ship', 'storage-tank', 'small-vehicle', 'large-vehicle')
SMALL = SplitSettings(sizes=(128, ), gaps=(32, ))
# Windows of a 300x260 image at 128/32 (step 96): x 0, 96, 172 (the last
# shifted back to end at 300), y 0, 96, 132.
XS, YS = (0, 96, 172), (0, 96, 132)
LABELS = [
    'imagesource:GoogleEarth',
    'gsd:0.146',
    '10 10 40 10 40 30 10 30 plane 0',
    # x 80..120: 24/40 = 0.6 of it in the window at x=96: dropped there.
    '80 20 120 20 120 40 80 40 ship 0',
    # x 90..120: 24/30 = 0.8 in the window at x=96: kept, difficulty 2.
    '90 50 120 50 120 70 90 70 small-vehicle 1',
    '250 200 270 190 280 210 260 220 large-vehicle 0',
    '150 150 180 165 170 185 140 170 storage-tank 0',
]


def write_sample(root: str) -> str:
    """Two 300x260 original-format DOTA images (.png, .jpg) with labels in
    ``root/images`` and ``root/labelTxt``."""
    os.makedirs(osp.join(root, 'images'))
    os.makedirs(osp.join(root, 'labelTxt'))
    rng = np.random.default_rng(0)
    for name in ('P0001.png', 'P0002.jpg'):
        img = rng.integers(0, 255, (260, 300, 3), dtype=np.uint8)
        cv2.imwrite(osp.join(root, 'images', name), img)
        with open(osp.join(root, 'labelTxt', name[:5] + '.txt'), 'w') as f:
            f.write('\n'.join(LABELS) + '\n')
    return root


def read_fields(path: str) -> List[List[str]]:
    """The whitespace-separated fields of each line of a written file, as
    text: what the writers' exact output is compared with (labels are read
    with :func:`dkd_mm_data.labels.read_dota_labels`)."""
    with open(path) as f:
        return [line.split() for line in f.read().splitlines()]
