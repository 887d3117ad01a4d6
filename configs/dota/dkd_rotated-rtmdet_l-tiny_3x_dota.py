# DKD (GD + ISD + TSA) on DOTA v1.0: mmrotate's RTMDet-R l (3x; 78.85 mAP in
# its model zoo) teaches RTMDet-R tiny (75.60 mAP there, trained alone).
# Both are mmrotate's packaged configs: the teacher unchanged, only its
# `model` used; the student upstream's recipe with TSA around its box loss
# (rotated-rtmdet_tiny_tsa_3x_dota.py; `cuda_box_loss = False` there for
# GWD on CPU).  The teacher never computes its loss, so it stays upstream's.
# The necks (CSPNeXtPAFPN) have three levels (strides 8, 16, 32) and no
# `num_outs`; the distiller reads them from the built models, and 1x1
# adapters map the student's 96 channels to the teacher's 256.  Nothing is
# tuned: the project's DKD defaults, distillation warming up with the lr.
#
# The student's base brings upstream's hooks (EMA of the student, as its
# model zoo numbers), so this config takes ../_base_/distill/dkd_model.py
# and adds the teacher hook to them.
_base_ = [
    './rotated-rtmdet_tiny_tsa_3x_dota.py', '../_base_/distill/dkd_model.py'
]

# teacher_ckpt: the teacher's weights from mmrotate's model zoo (the `Weights`
# of rotated_rtmdet_l-3x-dota in its metafile.yml), downloaded once into the
# torch hub cache; a local path works too.
model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='mmrotate::rotated_rtmdet/rotated_rtmdet_l-3x-dota.py',
    teacher_ckpt='https://download.openmmlab.com/mmrotate/v1.0/rotated_rtmdet/rotated_rtmdet_l-3x-dota/rotated_rtmdet_l-3x-dota-23992372.pth')  # noqa: E501  # yapf: disable

# EMA (the runtime's) and the teacher hook (its warm-up: the schedule's).
custom_hooks = _base_.custom_hooks + [_base_.dkd_hook]
