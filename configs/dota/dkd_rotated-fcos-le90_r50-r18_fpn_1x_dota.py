# DKD (GD + ISD + TSA) on DOTA v1.0: mmrotate's rotated FCOS (le90,
# ResNet-50, 1x; 71.28 mAP in its model zoo) teaches the ResNet-18 student.
# ISD's teacher instances come from the teacher's own predict path (the FCOS
# head's points, centerness and rotated NMS).  The student's box loss needs
# CUDA unless `cuda_box_loss = False` in rotated-fcos-le90_r18_fpn_1x_dota.py
# (see its note).  The teacher is mmrotate's packaged config, unchanged; only
# its `model` is used (data, schedule and runtime are the student's).  Swap
# the student by overriding `model.student`.
_base_ = [
    './rotated-fcos-le90_r18_fpn_tsa_1x_dota.py', '../_base_/distill/dkd.py'
]

# teacher_ckpt: the teacher's weights from mmrotate's model zoo (the `Weights`
# of rotated-fcos-le90_r50_fpn_1x_dota in its metafile.yml), downloaded once
# into the torch hub cache; a local path works too.
model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='mmrotate::rotated_fcos/rotated-fcos-le90_r50_fpn_1x_dota.py',
    teacher_ckpt='https://download.openmmlab.com/mmrotate/v0.1.0/rotated_fcos/rotated_fcos_r50_fpn_1x_dota_le90/rotated_fcos_r50_fpn_1x_dota_le90-d87568ed.pth')  # noqa: E501  # yapf: disable
