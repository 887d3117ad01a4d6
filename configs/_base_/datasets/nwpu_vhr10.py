# NWPU VHR-10 (10 classes, horizontal boxes) for mmdet detectors, read from
# the original release by dkd_mm's NWPUVHR10Dataset:
#   data/NWPU VHR-10 dataset/{positive image set,negative image set,
#                             ground truth}/
#   data/NWPU VHR-10 dataset/splits/{train,val,test}.txt
# written by `python tools/data/nwpu/make_split.py "data/NWPU VHR-10
# dataset" --ratios 0.6 0.2 0.2 --seed 0`.  Every type carries its scope, so
# this file works under default_scope 'mmdet' or 'dkd_mm' (with
# custom_imports=dict(imports=['dkd_mm'])).  Use it as a `_base_` beside an
# mmdet model base, e.g. 'mmdet::_base_/models/retinanet_r50_fpn.py' with
# num_classes=10.
#
# mAP: VOCMetric with eval_mode='area', the exact area under the
# precision-recall curve (all points, as VOC 2010+).  NWPU VHR-10 has no
# evaluation kit of its own; its papers define AP as the area under that
# curve, and with a few hundred test objects split over 10 classes the
# 11-point VOC 2007 approximation moves in steps of 1/11 of recall.  Set
# eval_mode='11points' only to compare with numbers reported that way.
dataset_type = 'dkd_mm.NWPUVHR10Dataset'
data_root = 'data/NWPU VHR-10 dataset/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='mmdet.Resize', scale=(800, 800), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(800, 800), keep_ratio=True),
    # after Resize, so the boxes the metric sees stay in image pixels
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='mmdet.AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/train.txt',
        filter_cfg=dict(filter_empty_gt=True),
        on_bad_label='skip',
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/val.txt',
        test_mode=True,
        on_bad_label='skip',
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='splits/test.txt',
        test_mode=True,
        on_bad_label='skip',
        pipeline=test_pipeline,
        backend_args=backend_args))

val_evaluator = dict(type='mmdet.VOCMetric', metric='mAP', eval_mode='area')
test_evaluator = val_evaluator
