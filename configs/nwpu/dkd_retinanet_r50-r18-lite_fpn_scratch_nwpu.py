# DKD with the lite student (retinanet_r18-lite_fpn_scratch_nwpu.py:
# ResNet-18, 128-channel neck and head); the ResNet-50 teacher unchanged,
# the distiller's 1x1 adapters map the student's 128 channels to its 256.
_base_ = ['./dkd_retinanet_r50-r18_fpn_scratch_nwpu.py']

model = dict(
    student=dict(
        neck=dict(out_channels=128),
        bbox_head=dict(in_channels=128, feat_channels=128)))
