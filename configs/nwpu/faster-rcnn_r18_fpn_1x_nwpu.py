# Student: the teacher's Faster R-CNN on torchvision's ImageNet ResNet-18,
# as mmdet's ResNet-18 detectors (neck and heads keep 256 channels, so the
# distiller needs no adapter).  Schedule, lr and batch size are the
# teacher's, mmdet's 1x; scale them as the teacher config says.
_base_ = ['./faster-rcnn_r50_fpn_1x_nwpu.py']

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
