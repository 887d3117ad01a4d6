"""The rules by which dkd_mm's loaders treat bad labels and images.

Every loader (``RobustDOTADataset``, ``NWPUVHR10Dataset``, and through the
DOTA loader the synthetic generator's output), the DOTA splitter and the
full-image evaluation apply the same rules, kept here.  Each problem gets
one reason from :data:`REASONS`:

Dropped line (the object is left out, the image kept):

* ``malformed``: wrong field count or layout (DOTA: 9 or 10 fields, the
  9th a class name, not a number, and a missing 10th, the difficulty, is
  0 as in the DOTA devkit; NWPU: ``(x1,y1),(x2,y2),c``, corners in either
  order; a split file: a bad or repeated entry).
* ``non_numeric``: a coordinate that is not a finite number (``nan`` and
  ``inf`` included), or a difficulty / class id that is not an integer.
* ``unknown_class``: a class name (DOTA) or id (NWPU, 1..10) that is not in
  the data set's ``metainfo['classes']``.
* ``degenerate``: fewer than 3 distinct corners, or a convex hull of less
  than :data:`MIN_BOX_AREA` (1 px^2).  The hull, not the polygon in written
  order, is measured: mmrotate turns a quadrilateral into a rotated box with
  ``cv2.minAreaRect``, which does not depend on the order either.
* ``outside``: less than 1 px^2 of the box lies in the image, which spans
  ``[0, w] x [0, h]``.  A box *partly* outside is kept as written (not
  clipped): split patches carry objects cut by the patch border, as
  mmrotate's splitter writes them, and ``mmdet.Resize`` clips when asked.

Dropped image:

* ``missing_image``: a label file or split entry without an image.
* ``corrupt_image``: the image cannot be opened (``check_images='header'``)
  or decoded (``'decode'``), or has no pixels.
* ``missing_label``: an image without its label file (DOTA: an image of
  the image folder; NWPU: a positive image named in the split).
* ``unreadable_label``: a label file that is not UTF-8 text.
* ``duplicate_image``: two images share a stem; the one earliest in
  :data:`IMG_EXTENSIONS` is kept, the other is the one dropped.

Not problems: blank lines and the ``imagesource:``/``gsd:`` header lines of
original DOTA files are passed over; an empty label file gives a negative
image (no objects), which ``filter_cfg=dict(filter_empty_gt=True)`` drops
from training.

With ``on_bad_label='skip'`` a problem is dropped and counted, and one
warning per data set lists the counts per reason with the first few
``file:line`` cases.  With ``'error'`` the first problem raises
:class:`BadLabelError` naming the file and line.  Nothing is repaired into
a different box.  A data set left with no image raises ValueError.

The modules, one job each: :mod:`.issues` (reasons, counting, the two
modes), :mod:`.parsers` (one line of a DOTA or NWPU file), :mod:`.geometry`
(the box rules), :mod:`.files` (images by stem, image sizes, the lines of a
file), and :mod:`.readers` (the one read / parse / check loop, and the DOTA
label reader built on it).
"""
from .files import (CHECK_IMAGES, IMG_EXTENSIONS, list_images, read_image_size,
                    read_label_lines)
from .geometry import MIN_BOX_AREA, check_box, hbox_corners, polygon_area
from .issues import (ON_BAD_LABEL, REASONS, BadLabelError, InputIssue,
                     LabelIssues, check_choice)
from .parsers import (DOTAObject, NWPUObject, parse_dota_line, parse_int,
                      parse_number, parse_nwpu_line)
from .readers import DOTALabels, read_dota_labels, read_objects

__all__ = [
    'CHECK_IMAGES', 'IMG_EXTENSIONS', 'list_images', 'read_image_size',
    'read_label_lines', 'MIN_BOX_AREA', 'check_box', 'hbox_corners',
    'polygon_area', 'ON_BAD_LABEL', 'REASONS', 'BadLabelError', 'InputIssue',
    'LabelIssues', 'check_choice', 'DOTAObject', 'NWPUObject',
    'parse_dota_line', 'parse_int', 'parse_number', 'parse_nwpu_line',
    'DOTALabels', 'read_dota_labels', 'read_objects'
]
