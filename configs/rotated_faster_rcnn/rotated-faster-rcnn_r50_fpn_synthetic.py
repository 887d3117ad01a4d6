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
    '../_base_/models/synthetic_two_stage.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

# The two-stage synthetic recipe: _base_/models/synthetic_two_stage.py.
model = _base_.synthetic_two_stage_teacher

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
