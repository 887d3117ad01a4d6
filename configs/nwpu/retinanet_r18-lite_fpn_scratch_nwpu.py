# Lite student: the ResNet-18 student with a 128-channel neck and head
# (mmdet's R18 config keeps the teacher's 256, which leaves its network only
# 1.8x faster than the ResNet-50 teacher's at 1024 px; docs/benchmarks.md,
# `bench/cost.py --inference-1024 --family retinanet-nwpu-lite`).  Unlike
# retinanet_r18-thin_fpn_scratch_nwpu.py, the backbone keeps ResNet-18's
# widths, so ImageNet ResNet-18 weights fit it where one starts from them.
# The distiller's 1x1 adapters map 128 channels to the teacher's 256.
_base_ = ['./retinanet_r18_fpn_scratch_nwpu.py']

model = dict(
    neck=dict(out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128))
