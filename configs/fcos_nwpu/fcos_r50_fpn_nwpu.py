# Teacher: mmdet's FCOS (ResNet-50 FPN, GN head, anchor-free) on NWPU VHR-10
# (10 classes, horizontal boxes), trained from scratch.  Inherits
# fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py; changed: no ImageNet init,
# and with it the caffe-style backbone (frozen BN, BGR input, std 1) gives
# way to a pytorch-style one with trainable BN and ImageNet RGB
# normalisation (as mmdet's pytorch-style FCOS configs); 10 classes; NWPU
# VHR-10's data in place of COCO's.
#
# mmdet has no FCOS model base, so the upstream file, which defines
# `train_dataloader` & co., is the only base (mmengine forbids duplicate
# keys among bases, so _base_/datasets/nwpu_vhr10.py cannot sit beside it):
# the datasets below are those of nwpu_vhr10.py, keep them in step.
_base_ = ['mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py']
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=None),
    bbox_head=dict(num_classes=10))

# NWPU VHR-10, as _base_/datasets/nwpu_vhr10.py (the loaders' batch sizes,
# workers and samplers are COCO's, the same as there).
data_root = 'data/NWPU VHR-10 dataset/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(type='mmdet.Resize', scale=(800, 800), keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(800, 800), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='dkd_mm.NWPUVHR10Dataset',
        data_root=data_root,
        ann_file='splits/train.txt',
        filter_cfg=dict(filter_empty_gt=True),
        on_bad_label='skip',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='dkd_mm.NWPUVHR10Dataset',
        data_root=data_root,
        ann_file='splits/val.txt',
        test_mode=True,
        on_bad_label='skip',
        pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='dkd_mm.NWPUVHR10Dataset',
        data_root=data_root,
        ann_file='splits/test.txt',
        test_mode=True,
        on_bad_label='skip',
        pipeline=test_pipeline))
val_evaluator = dict(
    _delete_=True, type='mmdet.VOCMetric', metric='mAP', eval_mode='area')
test_evaluator = val_evaluator
