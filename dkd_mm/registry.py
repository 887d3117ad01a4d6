"""dkd_mm's registry nodes, direct children of mmengine's root registries
(as mmdet's and mmrotate's are).

Configs keep the default scope of the detector family they distil
(``'mmrotate'`` or ``'mmdet'``) and name dkd_mm's components with the
``dkd_mm.`` prefix (``type='dkd_mm.DKDDistiller'``), which resolves from any
scope.  Inside dkd_mm's own modules, plain names resolve in dkd_mm first.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    locations=['dkd_mm.distillers', 'dkd_mm.losses'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['dkd_mm.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['dkd_mm.hooks'])
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['dkd_mm.datasets'])
