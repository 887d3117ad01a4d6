# DKD with the lite student (rotated-retinanet-le90_r18-lite_fpn_1x_dota.py:
# ResNet-18, 128-channel FPN and head), the ResNet-50 teacher unchanged; the
# distiller's 1x1 adapters map the student's 128 channels to the teacher's
# 256 for GD and ISD.
_base_ = ['./dkd_rotated-retinanet-le90_r50-r18_fpn_1x_dota.py']

model = dict(
    student=dict(
        neck=dict(out_channels=128),
        bbox_head=dict(in_channels=128, feat_channels=128)))
