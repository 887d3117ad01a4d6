# Thinner student: the ResNet-18 student with half-width residual stages
# (base_channels=32) and a 128-channel neck, RPN and RoI head (the
# distiller's 1x1 adapters map 128 to the teacher's 256).
_base_ = ['./faster-rcnn_r18_fpn_scratch_nwpu.py']

model = dict(
    backbone=dict(base_channels=32),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=128),
    rpn_head=dict(in_channels=128, feat_channels=128),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(in_channels=128)))
