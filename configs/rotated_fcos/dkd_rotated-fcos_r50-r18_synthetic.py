# DKD (GD + ISD + TSA): the ResNet-50 rotated FCOS teacher teaches the
# ResNet-18 student; CPU-capable GWD box loss inside TSA (see the teacher's
# note).  ISD's teacher instances come from the teacher's own predict path
# (the FCOS head's points, centerness and rotated NMS).  Train the teacher
# first:
#   python tools/train.py \
#       configs/rotated_fcos/rotated-fcos_r50_fpn_synthetic.py
# With CUDA, set `cuda_box_loss = True` in the teacher config: the whole
# family then uses upstream's RotatedIoULoss.  Swap the student by
# overriding `model.student`.
_base_ = [
    './rotated-fcos_r18_fpn_tsa_synthetic.py', '../_base_/distill/dkd.py'
]

model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='{{fileDirname}}/rotated-fcos_r50_fpn_synthetic.py',
    teacher_ckpt='work_dirs/rotated-fcos_r50_fpn_synthetic/iter_600.pth')
