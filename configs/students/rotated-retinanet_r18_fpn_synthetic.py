# Student: the teacher's detector with a ResNet-18 backbone.  Everything
# else (head, anchors, data, schedule) is inherited unchanged.
_base_ = ['../teachers/rotated-retinanet_r50_fpn_synthetic.py']

model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]))
