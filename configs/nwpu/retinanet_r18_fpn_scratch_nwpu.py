# Student: the teacher with a ResNet-18 backbone, as mmdet's
# retinanet_r18_fpn_1x_coco.py (neck and head keep 256 channels, so the
# distiller needs no adapter).
_base_ = ['./retinanet_r50_fpn_scratch_nwpu.py']

model = dict(
    backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))
