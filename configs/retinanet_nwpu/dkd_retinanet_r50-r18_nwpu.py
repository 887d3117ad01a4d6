# DKD (GD + ISD + TSA): the ResNet-50 RetinaNet teacher teaches the
# ResNet-18 student on NWPU VHR-10.  Train the teacher first:
#   python tools/train.py configs/retinanet_nwpu/retinanet_r50_fpn_nwpu.py
# Swap the student by inheriting this file and overriding `model.student`.
_base_ = ['./retinanet_r18_fpn_tsa_nwpu.py', '../_base_/distill/dkd.py']

teacher_ckpt = 'work_dirs/retinanet_r50_fpn_nwpu/epoch_12.pth'

model = dict(
    _delete_=True,
    type='dkd_mm.DKDDistiller',
    student={{_base_.model}},
    teacher='{{fileDirname}}/retinanet_r50_fpn_nwpu.py',
    teacher_ckpt=teacher_ckpt,
    distill_losses={{_base_.dkd_distill_losses}})

# Distillation warms up over the schedule's 500 learning-rate warm-up iters.
custom_hooks = [
    dict(type='dkd_mm.DKDTeacherHook', status_mode='iter', warmup_iters=500)
]
