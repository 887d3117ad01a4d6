# Student: the teacher's detector with a ResNet-18 backbone and a 64-channel
# neck and head (the distiller's 1x1 adapters map 64 to the teacher's 128).
# Everything else (anchors, data, schedule) is inherited unchanged.
_base_ = ['./rotated-retinanet_r50_fpn_synthetic.py']

model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64))
