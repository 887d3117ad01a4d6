# Thinner student: the ResNet-18 student with half-width residual stages
# (base_channels=32); neck and heads stay those of the ResNet-18 student.
_base_ = ['./oriented-rcnn_r18_fpn_synthetic.py']

model = dict(
    backbone=dict(base_channels=32), neck=dict(in_channels=[32, 64, 128, 256]))
