# Student: the teacher with a ResNet-18 backbone, as mmdet's
# faster-rcnn_r18_fpn_1x_coco.py (neck and heads keep 256 channels, so the
# distiller needs no adapter).
_base_ = ['./faster-rcnn_r50_fpn_scratch_nwpu.py']

model = dict(
    backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))
