# DKD (GD + ISD + TSA): the ResNet-50 rotated RetinaNet teacher teaches the
# ResNet-18 student on the embedded synthetic data.  Train the teacher first:
#   python tools/train.py \
#       configs/rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py
# Swap the student by inheriting this file and overriding `model.student`.
_base_ = [
    './rotated-retinanet_r18_fpn_tsa_synthetic.py', '../_base_/distill/dkd.py'
]

model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='{{fileDirname}}/rotated-retinanet_r50_fpn_synthetic.py',
    teacher_ckpt='work_dirs/rotated-retinanet_r50_fpn_synthetic/iter_600.pth')
