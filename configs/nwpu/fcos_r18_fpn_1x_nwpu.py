# Student: the teacher's FCOS on torchvision's ImageNet ResNet-18 (neck and
# head keep 256 channels, as mmdet's ResNet-18 configs, so the distiller
# needs no adapter).  Its pytorch-style backbone and RGB ImageNet
# normalisation are the teacher's (see there why not upstream's caffe
# style).  Schedule, lr and batch size are the teacher's, mmdet's 1x; scale
# them as the teacher config says.
_base_ = ['./fcos_r50_fpn_1x_nwpu.py']

model = dict(
    backbone=dict(
        depth=18,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
