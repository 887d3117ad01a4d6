# PKD baseline (Pearson-correlation feature imitation, NeurIPS 2022): the
# FitNet set-up with PKDLoss instead; weight 10 as mmrazor's RetinaNet
# config, here over all 5 FPN levels.
_base_ = ['./fitnet_rotated-retinanet_r50-r18_synthetic.py']

model = dict(
    distill_losses=dict(
        _delete_=True, loss_pkd=dict(type='PKDLoss', loss_weight=10.0)))
