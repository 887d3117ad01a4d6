"""NWPU VHR-10 in its original release layout.

::

    <data_root>/positive image set/001.jpg ... 650.jpg
    <data_root>/negative image set/001.jpg ... 150.jpg
    <data_root>/ground truth/001.txt ...      # '(x1,y1),(x2,y2),c' lines
    <data_root>/splits/{train,val,test}.txt   # tools/data/nwpu/make_split.py

Positive and negative images share stems (001...), so a split file names a
negative image with a ``negative/`` prefix.  One entry per line: ``001``
(or ``positive/001``) is a positive image with labels in
``ground truth/001.txt``; ``negative/001`` is a negative image, no labels.
Blank lines and lines starting with ``#`` are passed over; an image
extension after the stem is allowed.  A repeated entry or an unknown prefix
is a 'malformed' line of the split file.

Boxes are horizontal ``[x1, y1, x2, y2]`` in the file's pixel coordinates,
for mmdet's ``LoadAnnotations(with_bbox=True)``.  Rotated detectors have
two recipes, both giving mmrotate ``RotatedBoxes`` at angle 0:

* keep ``rotated=False`` and convert in the pipeline (mmrotate registers
  the hbox -> rbox converter)::

      dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='hbox'),
      dict(type='mmrotate.ConvertBoxType',
           box_type_mapping=dict(gt_bboxes='rbox')),

* or ``rotated=True``: each ``bbox`` is the 8-point polygon of the
  rectangle, so the DOTA pipeline (``box_type='qbox'`` then
  ``ConvertBoxType`` to 'rbox') runs unchanged.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmdet.datasets import BaseDetDataset

from dkd_mm.registry import DATASETS
from dkd_mm_data.labels import (IMG_EXTENSIONS, InputIssue, LabelIssues,
                                NWPUObject, check_box, check_choice,
                                hbox_corners, list_images, parse_nwpu_line,
                                read_image_size, read_label_lines,
                                read_objects)

NWPU_CLASSES = ('airplane', 'ship', 'storage tank', 'baseball diamond',
                'tennis court', 'basketball court', 'ground track field',
                'harbor', 'bridge', 'vehicle')
NWPU_PALETTE = [(165, 42, 42), (255, 0, 255), (0, 51, 153), (189, 183, 107),
                (0, 255, 255), (255, 193, 193), (0, 255, 0), (255, 255, 0),
                (255, 128, 0), (138, 43, 226)]
NWPU_DIRS = dict(
    pos_img_path='positive image set',
    neg_img_path='negative image set',
    ann_path='ground truth')
POSITIVE, NEGATIVE = 'positive/', 'negative/'


def split_entry(entry: str) -> Tuple[bool, str]:
    """A split-file entry -> ``(is_negative, stem)``.

    Raises:
        InputIssue: 'malformed' for a prefix other than ``positive/`` or
            ``negative/``.
    """
    stem, ext = osp.splitext(entry)
    if ext.lower() not in IMG_EXTENSIONS:
        stem = entry
    negative = stem.startswith(NEGATIVE)
    if negative or stem.startswith(POSITIVE):
        stem = stem.split('/', 1)[1]
    if not stem or '/' in stem or '\\' in stem:
        raise InputIssue(
            'malformed', f'split entry {entry!r}: expected a stem, '
            f"'{POSITIVE}<stem>' or '{NEGATIVE}<stem>'")
    return negative, stem


def release_class(class_id: int) -> Optional[str]:
    """The release's class name of a 1-based class id; None outside
    1..10."""
    return NWPU_CLASSES[class_id - 1] \
        if 1 <= class_id <= len(NWPU_CLASSES) else None


def entry_name(negative: bool, stem: str) -> str:
    """The canonical split entry (and ``img_id``) of an image."""
    return NEGATIVE + stem if negative else stem


@DATASETS.register_module()
class NWPUVHR10Dataset(BaseDetDataset):
    """NWPU VHR-10, 10 classes, read from the original release.

    Bad input follows :mod:`dkd_mm_data.labels`: a class id whose
    release class (1..10, :data:`NWPU_CLASSES`) is not in
    ``metainfo['classes']`` is 'unknown_class' (so a class subset keeps its
    own 0-based labels); a listed positive image without its ground
    truth file is 'missing_label'; a ground truth file that is empty keeps
    the image as one with no objects.

    Args:
        ann_file (str): A split file (see the module docstring), relative
            to ``data_root``; '' takes every positive and negative image.
            Defaults to ''.
        data_prefix (dict, optional): Folders ``pos_img_path``,
            ``neg_img_path`` and ``ann_path``; missing keys take the
            release's names. Defaults to None.
        rotated (bool): Give each ``bbox`` as 8 corner coordinates (a qbox
            at angle 0) instead of ``[x1, y1, x2, y2]``. Defaults to False.
        on_bad_label (str): 'skip' or 'error', as for
            ``RobustDOTADataset``. Defaults to 'skip'.
        check_images (str): 'header' or 'decode' (see
            ``labels.read_image_size``). Defaults to 'header'.
        **kwargs: ``mmdet.datasets.BaseDetDataset`` arguments.

    Attributes:
        label_issues (LabelIssues): What the last load skipped, per reason.
    """

    METAINFO = dict(classes=NWPU_CLASSES, palette=NWPU_PALETTE)

    def __init__(self,
                 ann_file: str = '',
                 data_prefix: Optional[dict] = None,
                 rotated: bool = False,
                 on_bad_label: str = 'skip',
                 check_images: str = 'header',
                 **kwargs) -> None:
        self.label_issues = LabelIssues(on_bad_label)
        check_choice('check_images', check_images, ('header', 'decode'))
        self.rotated = rotated
        self.on_bad_label = on_bad_label
        self.check_images = check_images
        super().__init__(
            ann_file=ann_file,
            data_prefix=dict(NWPU_DIRS, **(data_prefix or {})),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the split, labels and images; warn once about skips.

        Returns:
            list[dict]: ``img_id``, ``file_name``, ``img_path``, ``height``,
            ``width`` and ``instances`` (``bbox``, 0-based ``bbox_label``,
            ``ignore_flag=0``) per image, in split order.
        """
        issues = self.label_issues = LabelIssues(self.on_bad_label)
        folders = {
            False: list_images(self.data_prefix['pos_img_path'], issues),
            True: list_images(self.data_prefix['neg_img_path'], issues)
        }
        data_list = []
        for negative, stem, where in self._entries(folders):
            name = folders[negative].get(stem)
            if name is None:
                issues.add(
                    'missing_image',
                    *where,
                    detail=f'no image {entry_name(negative, stem)}')
                continue
            info = self._load_image(negative, stem, name)
            if info is not None:
                data_list.append(info)
        self.label_issues.report(
            f'{type(self).__name__}({self.ann_file or self.data_root})',
            len(data_list))
        return data_list

    def _entries(self, folders: Dict[bool, Dict[str, str]]) -> list:
        """``(negative, stem, (file, line))`` per image to load."""
        if self.ann_file == '':
            # Ground truth files without an image are reported too.
            ann_dir = self.data_prefix['ann_path']
            labelled = {
                osp.splitext(n)[0]
                for n in os.listdir(ann_dir) if n.lower().endswith('.txt')
            } if osp.isdir(ann_dir) else set()
            stems = {
                False: sorted(set(folders[False]) | labelled),
                True: list(folders[True])
            }
            return [(neg, stem, (osp.join(ann_dir, stem + '.txt'), None))
                    for neg in (False, True) for stem in stems[neg]]
        try:
            lines = read_label_lines(self.ann_file)
        except InputIssue as issue:
            raise FileNotFoundError(
                f'split file {self.ann_file!r}: {issue.detail}')
        entries, seen = [], set()
        for number, text in lines:
            text = text.strip()
            if not text or text.startswith('#'):
                continue
            try:
                negative, stem = split_entry(text)
                if (negative, stem) in seen:
                    raise InputIssue('malformed', f'repeated entry {text!r}')
            except InputIssue as issue:
                self.label_issues.add_issue(issue, self.ann_file, number)
                continue
            seen.add((negative, stem))
            entries.append((negative, stem, (self.ann_file, number)))
        return entries

    def _load_image(self, negative: bool, stem: str,
                    name: str) -> Optional[dict]:
        """``data_info`` of one image; None if it is dropped."""
        folder = self.data_prefix[
            'neg_img_path' if negative else 'pos_img_path']
        img_path = osp.join(folder, name)
        ann_path = osp.join(self.data_prefix['ann_path'], stem + '.txt')
        try:
            height, width = read_image_size(img_path, self.check_images)
            if not negative and not osp.isfile(ann_path):
                raise InputIssue('missing_label',
                                 f'no ground truth file {ann_path}')
        except InputIssue as issue:
            self.label_issues.add_issue(issue, img_path)
            return None
        instances = [] if negative else self._read_labels(
            ann_path, (height, width))
        if instances is None:
            return None
        return dict(
            img_id=entry_name(negative, stem),
            file_name=osp.join(osp.basename(osp.normpath(folder)), name),
            img_path=img_path,
            height=height,
            width=width,
            instances=instances)

    def _read_labels(self, path: str,
                     img_hw: Tuple[int, int]) -> Optional[List[dict]]:
        """Instances of one ground truth file; None if it is unreadable."""
        cls_map = {c: i for i, c in enumerate(self.metainfo['classes'])}

        def check(obj: NWPUObject) -> None:
            name = release_class(obj.class_id)
            if name not in cls_map:
                raise InputIssue(
                    'unknown_class', f'class id {obj.class_id} '
                    f'({name or "not in 1..10"}) not in metainfo')
            check_box(hbox_corners(obj.hbox), img_hw)

        objects = read_objects(path, parse_nwpu_line, self.label_issues, check)
        if objects is None:
            return None
        return [
            dict(
                bbox=hbox_corners(obj.hbox) if self.rotated else obj.hbox,
                bbox_label=cls_map[release_class(obj.class_id)],
                ignore_flag=0) for obj in objects
        ]

    def filter_data(self) -> List[dict]:
        """Drop images without objects if ``filter_cfg.filter_empty_gt``
        (never in test mode).

        Returns:
            list[dict]: The kept ``data_info`` dicts.
        """
        if self.test_mode or not (self.filter_cfg or {}).get(
                'filter_empty_gt', False):
            return self.data_list
        return [info for info in self.data_list if info['instances']]
