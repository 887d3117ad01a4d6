# DKD (GD + ISD + TSA): the ResNet-50 rotated RetinaNet teacher teaches the
# ResNet-18 student on the embedded synthetic data.  Train the teacher first:
#   python tools/train.py \
#       configs/teachers/rotated-retinanet_r50_fpn_synthetic.py
# Swap the student by inheriting this file and overriding `model.student`.
_base_ = [
    '../students/rotated-retinanet_r18_fpn_tsa_synthetic.py',
    '../_base_/distill/dkd.py'
]

teacher_ckpt = 'work_dirs/rotated-retinanet_r50_fpn_synthetic/iter_600.pth'

model = dict(
    _delete_=True,
    type='dkd_mm.DKDDistiller',
    student={{_base_.model}},
    teacher='{{fileDirname}}/../teachers/'
    'rotated-retinanet_r50_fpn_synthetic.py',
    teacher_ckpt=teacher_ckpt,
    distill_losses={{_base_.dkd_distill_losses}})
