# FitNet-style FPN imitation: the ResNet-50 teacher teaches the ResNet-18
# student on the synthetic data.  Train the teacher first:
#   python tools/train.py \
#       configs/rotated_retinanet/rotated-retinanet_r50_fpn_synthetic.py
# The student is rotated-retinanet_r18_fpn_synthetic.py (swap it by
# inheriting this file and overriding `model.student`).  Same teacher hook
# (warm-up) as DKD's configs.
_base_ = [
    './rotated-retinanet_r18_fpn_synthetic.py',
    '../_base_/distill/teacher_hook.py'
]

model = dict(
    _delete_=True,
    type='dkd_mm.DKDDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/rotated-retinanet_r50_fpn_synthetic.py',
    teacher_ckpt='work_dirs/rotated-retinanet_r50_fpn_synthetic/iter_600.pth',
    distill_losses=dict(loss_fitnet=dict(type='FitNetLoss', loss_weight=1.0)))
custom_hooks = [_base_.dkd_hook]
