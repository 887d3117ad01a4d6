# Thinner student: the ResNet-18 student with half-width residual stages
# (base_channels=32) and a 128-channel neck and head (the distiller's 1x1
# adapters map 128 to the teacher's 256; GN's 32 groups still divide 128).
_base_ = ['./fcos_r18_fpn_scratch_nwpu.py']

model = dict(
    backbone=dict(base_channels=32),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128))
