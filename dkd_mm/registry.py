"""dkd_mm's registry nodes, children of mmrotate's (themselves children of
mmengine's root registries).

With ``default_scope='dkd_mm'`` a config builds dkd_mm's components by their
plain names and mmrotate's through the parent (mmdet's with the ``mmdet.``
prefix, as mmrotate's own configs write them).  Configs that keep another
default scope (e.g. ``'mmdet'`` for horizontal detectors) name dkd_mm's
components with the ``dkd_mm.`` prefix.
"""
from mmengine.registry import Registry
from mmrotate.registry import DATASETS as MMROTATE_DATASETS
from mmrotate.registry import HOOKS as MMROTATE_HOOKS
from mmrotate.registry import METRICS as MMROTATE_METRICS
from mmrotate.registry import MODEL_WRAPPERS as MMROTATE_MODEL_WRAPPERS
from mmrotate.registry import MODELS as MMROTATE_MODELS
from mmrotate.registry import TASK_UTILS as MMROTATE_TASK_UTILS
from mmrotate.registry import TRANSFORMS as MMROTATE_TRANSFORMS
from mmrotate.registry import VISUALIZERS as MMROTATE_VISUALIZERS

MODELS = Registry(
    'model',
    parent=MMROTATE_MODELS,
    locations=['dkd_mm.distillers', 'dkd_mm.losses'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMROTATE_MODEL_WRAPPERS,
    locations=['dkd_mm.engine'])
HOOKS = Registry('hook', parent=MMROTATE_HOOKS, locations=['dkd_mm.hooks'])
DATASETS = Registry(
    'dataset', parent=MMROTATE_DATASETS, locations=['dkd_mm.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMROTATE_TRANSFORMS, locations=['dkd_mm.datasets'])
METRICS = Registry('metric', parent=MMROTATE_METRICS)
TASK_UTILS = Registry('task util', parent=MMROTATE_TASK_UTILS)
VISUALIZERS = Registry('visualizer', parent=MMROTATE_VISUALIZERS)
