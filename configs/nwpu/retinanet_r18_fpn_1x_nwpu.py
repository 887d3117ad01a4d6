# Student: the teacher's RetinaNet on torchvision's ImageNet ResNet-18, as
# mmdet's retinanet/retinanet_r18_fpn_1x_coco.py (neck and head keep 256
# channels, so the distiller needs no adapter).  Schedule, lr and batch size
# are the teacher's, mmdet's 1x; scale them as the teacher config says.
_base_ = ['./retinanet_r50_fpn_1x_nwpu.py']

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
