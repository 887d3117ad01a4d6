# CWD baseline (channel-wise distillation, ICCV 2021): the FitNet set-up
# with CWDLoss instead; tau 1 and weight 10 as mmrazor's RetinaNet config.
_base_ = ['./fitnet_rotated-retinanet_r50-r18_synthetic.py']

model = dict(
    distill_losses=dict(
        _delete_=True,
        loss_cwd=dict(type='CWDLoss', tau=1.0, loss_weight=10.0)))
