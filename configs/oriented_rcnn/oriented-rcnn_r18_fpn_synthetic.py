# Student: the teacher's detector with a ResNet-18 backbone and a 64-channel
# neck, RPN and RoI head (the distiller's 1x1 adapters map 64 to 128).
_base_ = ['./oriented-rcnn_r50_fpn_synthetic.py']

model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64)))
