# DKD on rotated FCOS with upstream's RotatedIoULoss inside TSA (CUDA); the
# teacher trained with rotated-fcos_r50_fpn_synthetic_cuda.py.
_base_ = ['./rotated-fcos_r18_fpn_tsa_synthetic_cuda.py']

teacher_ckpt = 'work_dirs/rotated-fcos_r50_fpn_synthetic_cuda/iter_600.pth'

model = dict(
    _delete_=True,
    type='dkd_mm.DKDDistiller',
    student={{_base_.model}},
    teacher='{{fileDirname}}/rotated-fcos_r50_fpn_synthetic_cuda.py',
    teacher_ckpt=teacher_ckpt,
    distill_losses=dict(
        loss_gd=dict(type='DynamicGlobalDistillLoss'),
        loss_isd=dict(type='InstanceSelectionDistillLoss')))

custom_hooks = [
    dict(type='dkd_mm.DKDTeacherHook', status_mode='iter', warmup_iters=50)
]
