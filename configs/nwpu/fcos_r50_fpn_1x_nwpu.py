# Teacher: mmdet's FCOS (ResNet-50 FPN, GN head, 1x schedule, SGD lr 0.01),
# fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py, the ResNet-50 FCOS 1x that
# mmdet ships, on NWPU VHR-10; changed: 10 classes, NWPU VHR-10's data and
# VOC mAP in place of COCO's, and the backbone's weights and input:
# torchvision's pytorch-style ResNet-50 with RGB ImageNet mean/std (as
# mmdet's pytorch-style FCOS configs) in place of detectron's caffe-style
# one with BGR input and std 1.  Why: the DKD teacher sees the student's
# normalised images (DKDDistiller checks that their data_preprocessor
# agrees), and the ResNet-18 student has only torchvision weights (OpenMMLab
# has no caffe-style ResNet-18).  Frozen BN and stage 1 stay as upstream.
# No NWPU VHR-10 model zoo exists, so train it once; its last checkpoint is
# the DKD config's `teacher_ckpt`:
#   python tools/train.py configs/nwpu/fcos_r50_fpn_1x_nwpu.py
# lr 0.01 is mmdet's for 16 images a step (8 GPUs x 2 images,
# `auto_scale_lr.base_batch_size=16`); on G GPUs x 2 images add
# `--auto-scale-lr` to scale it linearly (lr x 2G / 16).
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
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    bbox_head=dict(num_classes=10))

train_dataloader = {{_base_.nwpu_train_dataloader}}
val_dataloader = {{_base_.nwpu_val_dataloader}}
test_dataloader = {{_base_.nwpu_test_dataloader}}
val_evaluator = {{_base_.nwpu_val_evaluator}}
test_evaluator = {{_base_.nwpu_test_evaluator}}
