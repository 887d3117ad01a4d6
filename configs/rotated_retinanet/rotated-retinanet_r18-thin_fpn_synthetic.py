# Thinner student: the ResNet-18 student with half-width residual stages
# (base_channels=32: stage outputs 32/64/128/256 instead of 64/.../512).
# Neck and head stay those of the ResNet-18 student (64 channels).
_base_ = ['./rotated-retinanet_r18_fpn_synthetic.py']

model = dict(
    backbone=dict(base_channels=32), neck=dict(in_channels=[32, 64, 128, 256]))
