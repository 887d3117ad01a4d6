# FGD baseline (focal and global distillation, CVPR 2022): the FitNet
# set-up (same teacher, student, data, schedule) with FGDLoss instead.
# Weights from FGD's RetinaNet configs; 128 channels and 5 levels are the
# teacher's FPN.
_base_ = ['./fitnet_rotated-retinanet_r50-r18_synthetic.py']

model = dict(
    distill_losses=dict(
        _delete_=True,
        loss_fgd=dict(
            type='FGDLoss',
            in_channels=128,
            num_levels=5,
            temp=0.5,
            alpha_fgd=0.001,
            beta_fgd=0.0005,
            gamma_fgd=0.0005,
            lambda_fgd=0.000005)))
