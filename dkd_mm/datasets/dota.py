"""DOTA loaders that survive real label files: a drop-in for mmrotate
1.0.0rc1's ``DOTADataset`` (same arguments, same ``data_list``) that also
reads the original DOTA labels and non-PNG images.

mmrotate's loader crashes on the ``imagesource:``/``gsd:`` header lines of
original DOTA label files, raises KeyError on an unknown class and reads only
``.png``.  These loaders read original and split (mmrotate splitter) label
files alike, find images of any :data:`~.labels.IMG_EXTENSIONS` by
stem, and treat bad input by the rules of :mod:`dkd_mm_data.labels`.

Example:
    >>> dataset = dict(type='dkd_mm.RobustDOTADataset',
    ...                data_root='data/split_ss_dota/',
    ...                ann_file='trainval/annfiles/',
    ...                data_prefix=dict(img_path='trainval/images/'),
    ...                on_bad_label='skip', pipeline=[])
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmrotate.datasets import DOTADataset, DOTAv15Dataset

from dkd_mm.registry import DATASETS
from dkd_mm_data.labels import (CHECK_IMAGES, IMG_EXTENSIONS, InputIssue,
                                LabelIssues, check_choice, list_images,
                                read_dota_labels, read_image_size)

DOTA_V1_CLASSES = tuple(DOTADataset.METAINFO['classes'])
DOTA_V15_CLASSES = tuple(DOTAv15Dataset.METAINFO['classes'])


@DATASETS.register_module()
class RobustDOTADataset(DOTADataset):
    """DOTA v1.0 (15 classes) with the bad-input rules of
    :mod:`~dkd_mm_data.labels`.

    ``ann_file`` is a folder of ``.txt`` label files, one per image, in
    split style (``x1 y1 ... x4 y4 class difficult`` per line) or original
    style (the same after ``imagesource:`` and ``gsd:`` header lines).  The
    image of ``<stem>.txt`` is ``<stem>`` with any extension in
    ``data_prefix['img_path']``.  ``ann_file=''`` lists the images alone
    (test mode, no labels).  ``data_list`` is sorted by ``img_id``.

    Differences from mmrotate's loader, each where that one fails or
    guesses: ``file_name`` carries the real extension; ``height``/``width``
    are read from the image header unless ``check_images='exists'``;
    images without a label file and label files without an image are
    reported; with ``ann_file=''`` an image has no instances instead of one
    placeholder with an empty ``bbox`` (both load as zero boxes).

    Args:
        img_shape (tuple[int, int]): ``(h, w)`` given to every image when
            ``check_images='exists'`` (mmrotate's behaviour: no image is
            opened, so every image must have this size, as split patches
            do); otherwise each image's own size is used.
            Defaults to (1024, 1024).
        diff_thr (int): Objects with a difficulty above it get
            ``ignore_flag=1``. Defaults to 100.
        on_bad_label (str): 'skip' drops bad lines and images, counts them
            and warns once; 'error' raises at the first, naming the file
            and line. Defaults to 'skip'.
        check_images (str): 'exists', 'header' (open each image's header:
            size, and unreadable files found) or 'decode' (decode every
            image: slow, also finds truncated files). Defaults to 'header'.
        **kwargs: ``mmengine.dataset.BaseDataset`` arguments.

    Attributes:
        label_issues (LabelIssues): What the last load skipped, per reason.
    """

    METAINFO = dict(DOTADataset.METAINFO, classes=DOTA_V1_CLASSES)

    def __init__(self,
                 img_shape: Tuple[int, int] = (1024, 1024),
                 diff_thr: int = 100,
                 on_bad_label: str = 'skip',
                 check_images: str = 'header',
                 **kwargs) -> None:
        self.label_issues = LabelIssues(on_bad_label)
        check_choice('check_images', check_images, CHECK_IMAGES)
        self.on_bad_label = on_bad_label
        self.check_images = check_images
        super().__init__(img_shape=img_shape, diff_thr=diff_thr, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the labels and images; warn once about what was skipped.

        Returns:
            list[dict]: ``img_id``, ``file_name``, ``img_path``, ``height``,
            ``width`` and ``instances`` (``bbox``: 8 floats,
            ``bbox_label``, ``ignore_flag``) per image.
        """
        self.label_issues = LabelIssues(self.on_bad_label)
        img_dir = self.data_prefix.get('img_path', '')
        images = list_images(img_dir, self.label_issues)
        if self.ann_file == '':
            data_list = []
            for stem, name in images.items():
                info = self._image_info(stem, name)
                if info is not None:
                    data_list.append(dict(info, instances=[]))
        else:
            data_list = self._load_labelled(images)
        self.label_issues.report(
            f'{type(self).__name__}({self.ann_file or img_dir})',
            len(data_list))
        return data_list

    def _load_labelled(self, images: Dict[str, str]) -> List[dict]:
        ann_dir = self.ann_file
        if not osp.isdir(ann_dir):
            raise FileNotFoundError(
                f'ann_file {ann_dir!r} is not a folder of DOTA label files')
        labels = {
            osp.splitext(n)[0]: n
            for n in os.listdir(ann_dir) if n.lower().endswith('.txt')
        }
        if not labels:
            raise ValueError(f'There is no txt file in {ann_dir}')
        img_dir = self.data_prefix.get('img_path', '')
        for stem in sorted(set(images) - set(labels)):
            self.label_issues.add(
                'missing_label',
                osp.join(img_dir, images[stem]),
                detail=f'no {stem}.txt in {ann_dir}')
        data_list = []
        for stem in sorted(labels):
            label_path = osp.join(ann_dir, labels[stem])
            if stem not in images:
                exts = '|'.join(IMG_EXTENSIONS)
                self.label_issues.add(
                    'missing_image',
                    label_path,
                    detail=f'no {stem}{{{exts}}} in {img_dir}')
                continue
            info = self._image_info(stem, images[stem])
            if info is None:
                continue
            instances = self._read_labels(label_path,
                                          (info['height'], info['width']))
            if instances is not None:
                data_list.append(dict(info, instances=instances))
        return data_list

    def _image_info(self, stem: str, name: str) -> Optional[dict]:
        """Image fields of ``data_info``; None if the image is dropped."""
        img_path = osp.join(self.data_prefix.get('img_path', ''), name)
        try:
            size = read_image_size(img_path, self.check_images)
        except InputIssue as issue:
            self.label_issues.add_issue(issue, img_path)
            return None
        height, width = size if size is not None else self.img_shape
        return dict(
            img_id=stem,
            file_name=name,
            img_path=img_path,
            height=height,
            width=width)

    def _read_labels(self, path: str,
                     img_hw: Tuple[int, int]) -> Optional[List[dict]]:
        """Instances of one label file; None if the file is unreadable."""
        classes = self.metainfo['classes']
        labels = read_dota_labels(path, self.label_issues, img_hw, classes)
        if labels is None:
            return None
        cls_map = {c: i for i, c in enumerate(classes)}
        return [
            dict(
                bbox=qbox,
                bbox_label=cls_map[name],
                ignore_flag=int(difficulty > self.diff_thr))
            for qbox, name, difficulty in zip(
                labels.polys.tolist(), labels.classes, labels.difficulties)
        ]


@DATASETS.register_module()
class RobustDOTAv15Dataset(RobustDOTADataset):
    """DOTA v1.5: the 15 classes of v1.0 and 'container-crane'.

    The same as ``RobustDOTADataset`` with
    ``metainfo=dict(classes=DOTA_V15_CLASSES)``, with a 16-colour palette.
    """

    METAINFO = dict(DOTAv15Dataset.METAINFO, classes=DOTA_V15_CLASSES)
