# DKD with a light, non-ResNet student: mmdet's MobileNetV2 (ImageNet
# weights, as mmdet's yolov3_mobilenetv2 configs) under the same rotated
# RetinaNet neck and head.  Its stages at strides 8, 16 and 32 (out_indices
# 2, 4, 6: 32, 96 and 320 channels) feed the FPN from its first input
# (start_level=0), so the FPN gives the teacher's levels: strides 8-128,
# 256 channels, which GD and ISD compare level by level.  As upstream's
# ResNet, the first stage and BN statistics stay frozen (2 images per GPU).
_base_ = ['./dkd_rotated-retinanet-le90_r50-r18_fpn_1x_dota.py']

model = dict(
    student=dict(
        backbone=dict(
            _delete_=True,
            type='mmdet.MobileNetV2',
            out_indices=(2, 4, 6),
            frozen_stages=1,
            norm_eval=True,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='open-mmlab://mmdet/mobilenet_v2')),
        neck=dict(in_channels=[32, 96, 320], start_level=0)))
