# Teacher: mmdet's FCOS (ResNet-50 FPN, GN head, anchor-free) on NWPU VHR-10
# (10 classes, horizontal boxes), trained from scratch.  Inherits
# fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py; changed: no ImageNet init,
# and with it the caffe-style backbone (frozen BN, BGR input, std 1) gives
# way to a pytorch-style one with trainable BN and ImageNet RGB
# normalisation (as mmdet's pytorch-style FCOS configs); 10 classes; NWPU
# VHR-10's data in place of COCO's.
_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    '../_base_/datasets/nwpu_vhr10.py',
]
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

train_dataloader = {{_base_.nwpu_train_dataloader}}
val_dataloader = {{_base_.nwpu_val_dataloader}}
test_dataloader = {{_base_.nwpu_test_dataloader}}
val_evaluator = {{_base_.nwpu_val_evaluator}}
test_evaluator = {{_base_.nwpu_test_evaluator}}
