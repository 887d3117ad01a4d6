# DKD (GD + ISD + TSA): the ResNet-50 rotated Faster R-CNN teacher teaches the
# ResNet-18 student.  ISD's teacher instances come from the teacher's own
# predict path (horizontal RPN proposals, then the RoI head).  Train the
# teacher first:
#   python tools/train.py \
#       configs/rotated_faster_rcnn/rotated-faster-rcnn_r50_fpn_synthetic.py
# Swap the student by inheriting this file and overriding `model.student`.
_base_ = [
    './rotated-faster-rcnn_r18_fpn_tsa_synthetic.py',
    '../_base_/distill/dkd.py'
]

model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='{{fileDirname}}/rotated-faster-rcnn_r50_fpn_synthetic.py',
    teacher_ckpt='work_dirs/rotated-faster-rcnn_r50_fpn_synthetic/'
    'iter_600.pth')
