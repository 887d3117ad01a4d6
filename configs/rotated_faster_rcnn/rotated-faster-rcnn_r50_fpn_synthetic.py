# Teacher: mmrotate's rotated Faster R-CNN (le90, ResNet-50 FPN; horizontal
# RPN proposals, rotated boxes from the RoI head), trained from scratch on
# the embedded synthetic DOTA data.  Changed from upstream as the other
# synthetic teachers: data, classes, schedule, no ImageNet init, a
# 128-channel neck, and test-time proposal counts sized for a CPU (ISD runs
# this predict path for teacher and student at every training step).
_base_ = [
    'mmrotate::rotated_faster_rcnn/'
    'rotated-faster-rcnn-le90_r50_fpn_1x_dota.py',
    '../_base_/datasets/synthetic_dota.py',
    '../_base_/schedules/synthetic_iter.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    # From scratch: train every stage and let BN statistics move.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(out_channels=128),
    rpn_head=dict(in_channels=128, feat_channels=128),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(num_classes=5, in_channels=128)),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=300), rcnn=dict(max_per_img=200)))

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
