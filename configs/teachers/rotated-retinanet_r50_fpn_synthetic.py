# Teacher: mmrotate's rotated RetinaNet (le90, ResNet-50 FPN), trained from
# scratch on the embedded synthetic DOTA data.  Only what must change is
# changed: data, classes, schedule, and no ImageNet init (no downloads here).
_base_ = [
    'mmrotate::rotated_retinanet/rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py',
    '../_base_/datasets/synthetic_dota.py',
    '../_base_/schedules/synthetic_iter.py',
]
default_scope = 'mmrotate'
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    # From scratch: train every stage and let BN statistics move.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    bbox_head=dict(num_classes=5))

train_dataloader = {{_base_.synthetic_train_dataloader}}
val_dataloader = {{_base_.synthetic_val_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.synthetic_val_evaluator}}
test_evaluator = val_evaluator

train_cfg = {{_base_.synthetic_train_cfg}}
param_scheduler = {{_base_.synthetic_param_scheduler}}
optim_wrapper = {{_base_.synthetic_optim_wrapper}}
default_hooks = {{_base_.synthetic_default_hooks}}
log_processor = {{_base_.synthetic_log_processor}}
