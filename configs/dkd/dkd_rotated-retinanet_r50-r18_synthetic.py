# DKD (GD + ISD + TSA): the ResNet-50 rotated RetinaNet teacher teaches the
# ResNet-18 student on the embedded synthetic data.  Swap the student by
# inheriting this file and overriding `model.student` (e.g. its backbone).
_base_ = ['../students/rotated-retinanet_r18_fpn_tsa_synthetic.py']

teacher_ckpt = 'work_dirs/demo/teacher/teacher.pth'

model = dict(
    _delete_=True,
    type='dkd_mm.DKDDistiller',
    student={{_base_.model}},
    teacher='{{fileDirname}}/../teachers/rotated-retinanet_r50_fpn_synthetic.py',
    teacher_ckpt=teacher_ckpt,
    distill_losses=dict(
        loss_gd=dict(type='DynamicGlobalDistillLoss'),
        loss_isd=dict(type='InstanceSelectionDistillLoss')))

custom_hooks = [
    dict(type='dkd_mm.DKDTeacherHook', status_mode='iter', warmup_iters=50)
]
