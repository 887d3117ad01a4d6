# Benchmark teacher: the project's teacher detector (rotated RetinaNet, le90,
# 128-channel neck and head, 2 stacked convs) with a ResNet-18 backbone, so
# that a well-trained teacher fits the 2-hour CPU budget of bench/run.py.
_base_ = [
    '../../configs/rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py'
]

model = dict(
    backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))
