# NWPU VHR-10 (10 classes, horizontal boxes) for mmdet detectors, read from
# the original release by dkd_mm's NWPUVHR10Dataset:
#   data/NWPU VHR-10 dataset/{positive image set,negative image set,
#                             ground truth}/
#   data/NWPU VHR-10 dataset/splits/{train,val,test}.txt
# written by `python tools/data/nwpu/make_split.py "data/NWPU VHR-10
# dataset" --ratios 0.6 0.2 0.2 --seed 0`.  Every type carries its scope, so
# this file works under default_scope 'mmdet' or 'dkd_mm' (with
# custom_imports=dict(imports=['dkd_mm'])).  Names carry an `nwpu_` prefix so
# that this file can sit beside an upstream mmdet config in `_base_` (mmengine
# forbids duplicate keys among bases); a config takes them with
# `train_dataloader = {{_base_.nwpu_train_dataloader}}` etc., which replace
# the upstream loaders whole.
#
# mAP: VOCMetric with eval_mode='area', the exact area under the
# precision-recall curve (all points, as VOC 2010+).  NWPU VHR-10 has no
# evaluation kit of its own; its papers define AP as the area under that
# curve, and with a few hundred test objects split over 10 classes the
# 11-point VOC 2007 approximation moves in steps of 1/11 of recall.  Set
# eval_mode='11points' only to compare with numbers reported that way.
_base_ = './loaders.py'

nwpu_data_root = 'data/NWPU VHR-10 dataset/'
nwpu_backend_args = None

nwpu_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=nwpu_backend_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='mmdet.Resize', scale=(800, 800), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.PackDetInputs')
]
nwpu_test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=nwpu_backend_args),
    dict(type='mmdet.Resize', scale=(800, 800), keep_ratio=True),
    # after Resize, so the boxes the metric sees stay in image pixels
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
nwpu_train_dataloader = dict(
    _base_.train_loader_defaults,
    batch_size=2,
    batch_sampler=dict(type='mmdet.AspectRatioBatchSampler'),
    dataset=dict(
        type='dkd_mm.NWPUVHR10Dataset',
        data_root=nwpu_data_root,
        ann_file='splits/train.txt',
        filter_cfg=dict(filter_empty_gt=True),
        on_bad_label='skip',
        pipeline=nwpu_train_pipeline,
        backend_args=nwpu_backend_args))
nwpu_val_dataloader = dict(
    _base_.val_loader_defaults,
    batch_size=1,
    dataset=dict(
        type='dkd_mm.NWPUVHR10Dataset',
        data_root=nwpu_data_root,
        ann_file='splits/val.txt',
        test_mode=True,
        on_bad_label='skip',
        pipeline=nwpu_test_pipeline,
        backend_args=nwpu_backend_args))
nwpu_test_dataloader = dict(
    nwpu_val_dataloader,
    dataset=dict(nwpu_val_dataloader['dataset'], ann_file='splits/test.txt'))
nwpu_val_evaluator = dict(
    _delete_=True, type='mmdet.VOCMetric', metric='mAP', eval_mode='area')
# A dict of its own: merging val_evaluator consumes its `_delete_`, so
# `test_evaluator = val_evaluator` (or the same base name twice) would merge
# the test metric into the upstream config's CocoMetric arguments.
nwpu_test_evaluator = dict(nwpu_val_evaluator)
