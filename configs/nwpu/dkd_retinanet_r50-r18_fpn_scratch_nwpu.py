# DKD (GD + ISD + TSA): the ResNet-50 RetinaNet teacher teaches the
# ResNet-18 student on NWPU VHR-10.  Train the teacher first:
#   python tools/train.py configs/nwpu/retinanet_r50_fpn_scratch_nwpu.py
# Swap the student by inheriting this file and overriding `model.student`.
_base_ = [
    './retinanet_r18_fpn_tsa_scratch_nwpu.py', '../_base_/distill/dkd.py'
]

model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='{{fileDirname}}/retinanet_r50_fpn_scratch_nwpu.py',
    teacher_ckpt='work_dirs/retinanet_r50_fpn_scratch_nwpu/epoch_12.pth')
