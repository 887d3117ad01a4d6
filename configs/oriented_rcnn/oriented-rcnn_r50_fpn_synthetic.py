# Teacher: mmrotate's Oriented R-CNN (le90, ResNet-50 FPN), trained from
# scratch on the embedded synthetic DOTA data.  As for the rotated RetinaNet
# teacher, only what must change is changed: data, classes, schedule, no
# ImageNet init, and a 128-channel neck (5 classes at 256 px); proposal
# counts at test time are sized for a CPU (ISD runs this predict path for
# teacher and student at every training step).
_base_ = [
    'mmrotate::oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py',
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
