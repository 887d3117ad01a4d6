# Lite student for where inference time counts (satellites, drones): the
# ResNet-18 student (ImageNet weights) with a 128-channel FPN and head in
# place of upstream's 256 channels.  At 1024 px the neck and head are 76% of
# the plain ResNet-18 student's FLOPs, so a lighter backbone alone leaves the
# network only 1.8x faster than the ResNet-50 teacher's; this one is
# measured in docs/benchmarks.md (`bench/cost.py --inference-1024 --family
# dota-rotated-retinanet-lite`).  DKD's 1x1 adapters map its 128 channels to
# the teacher's 256.
_base_ = ['./rotated-retinanet-le90_r18_fpn_1x_dota.py']

model = dict(
    neck=dict(out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128))
