# Teacher: mmrotate's rotated FCOS (le90, ResNet-50 FPN, anchor-free),
# trained from scratch on the embedded synthetic DOTA data.  Changed from
# upstream as the other synthetic teachers (data, classes, schedule, no
# ImageNet init, 128-channel neck and head with 2 stacked convs), and:
#
# Box loss.  Upstream's RotatedIoULoss needs mmcv's CUDA-only
# `diff_iou_rotated`, so by default this config, which runs anywhere, uses GWD
# (mmrotate's GDLoss, loss_type='gwd': a Gaussian-distribution box loss, not
# DKD's global distillation) on the same decoded rotated boxes.
# KLD is not used: on an initialised rotated FCOS it gives a NaN box loss at
# the first step (issue 4).  With CUDA, set `cuda_box_loss = True` below: the
# teacher, the students (whose TSA wraps this loss) and the DKD config of the
# family all take upstream's loss.  The architecture is the same either way,
# so the weights of one load into the other.
_base_ = [
    'mmrotate::rotated_fcos/rotated-fcos-le90_r50_fpn_1x_dota.py',
    '../_base_/datasets/synthetic_dota.py',
    '../_base_/schedules/synthetic_iter.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

cuda_box_loss = False

model = dict(
    # From scratch: train every stage and let BN statistics move.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(out_channels=128),
    bbox_head=dict(
        num_classes=5,
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        # The weight of upstream's IoU loss and of its KLD variant.
        loss_bbox=dict(_delete_=True, type='RotatedIoULoss', loss_weight=1.0)
        if cuda_box_loss else dict(
            _delete_=True,
            type='mmrotate.GDLoss',  # Gaussian (GWD) box loss
            loss_type='gwd',
            loss_weight=1.0)),
    test_cfg=dict(nms_pre=1000, max_per_img=200))

train_dataloader = {{_base_.synthetic_train_dataloader}}
val_dataloader = {{_base_.synthetic_val_dataloader}}
test_dataloader = {{_base_.synthetic_test_dataloader}}
val_evaluator = {{_base_.synthetic_val_evaluator}}
test_evaluator = val_evaluator

train_cfg = {{_base_.synthetic_train_cfg}}
param_scheduler = {{_base_.synthetic_param_scheduler}}
optim_wrapper = {{_base_.synthetic_optim_wrapper}}
default_hooks = {{_base_.synthetic_default_hooks}}
log_processor = {{_base_.synthetic_log_processor}}
