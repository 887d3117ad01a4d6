# Student: the teacher with a ResNet-18 backbone (neck and head keep 256
# channels, as mmdet's ResNet-18 configs, so the distiller needs no adapter).
_base_ = ['./fcos_r50_fpn_scratch_nwpu.py']

model = dict(
    backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))
