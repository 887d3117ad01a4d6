"""dkd_mm's data files without the deep-learning stack.

The bad-label rules and the one label reader (:mod:`.labels`), DOTA
splitting (:mod:`.dota_split`, :mod:`.dota_split_run`) and the stored-PNG
writer (:mod:`.png_writer`): numpy, OpenCV, shapely and the standard
library.  A package of its own, installed with dkd_mm, because
``import dkd_mm`` registers every component with mmengine (torch, mmcv,
mmdet, mmrotate: seconds), and ``tools/data/dota/split.py`` starts in a
fraction of a second by importing only this.  dkd_mm's loaders and
evaluation import it; it imports nothing of dkd_mm.
"""
