# DKD (GD + ISD + TSA) on NWPU VHR-10: the ResNet-50 FCOS teacher teaches
# the ImageNet-initialised ResNet-18 student, on mmdet's 1x schedule (lr and
# its scaling: see the teacher config), with the project's default
# distillation weights.  There is no NWPU VHR-10 model zoo: train the
# teacher first, which writes `teacher_ckpt`,
#   python tools/train.py configs/nwpu/fcos_r50_fpn_1x_nwpu.py
# or pass another with --cfg-options model.teacher_ckpt=PATH.
# Swap the student by inheriting this file and overriding `model.student`.
_base_ = ['./fcos_r18_fpn_tsa_1x_nwpu.py', '../_base_/distill/dkd.py']

model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='{{fileDirname}}/fcos_r50_fpn_1x_nwpu.py',
    teacher_ckpt='work_dirs/fcos_r50_fpn_1x_nwpu/epoch_12.pth')
