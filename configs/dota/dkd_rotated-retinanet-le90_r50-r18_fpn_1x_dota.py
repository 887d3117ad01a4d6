# DKD (GD + ISD + TSA) on DOTA v1.0: mmrotate's rotated RetinaNet (le90,
# ResNet-50, 1x; 68.42 mAP in its model zoo) teaches the ResNet-18 student.
# The teacher is mmrotate's packaged config, unchanged; only its `model` is
# used (data, schedule and runtime are the student's).  Swap the student by
# inheriting this file and overriding `model.student` (as
# dkd_rotated-retinanet-le90_r50-mv2_fpn_1x_dota.py does).
_base_ = [
    './rotated-retinanet-le90_r18_fpn_tsa_1x_dota.py',
    '../_base_/distill/dkd.py'
]

# teacher_ckpt: the teacher's weights from mmrotate's model zoo (the `Weights`
# of rotated-retinanet-rbox-le90_r50_fpn_1x_dota in its metafile.yml),
# downloaded once into the torch hub cache; a local path works too.
model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='mmrotate::rotated_retinanet/rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py',  # noqa: E501
    teacher_ckpt='https://download.openmmlab.com/mmrotate/v0.1.0/rotated_retinanet/rotated_retinanet_obb_r50_fpn_1x_dota_le90/rotated_retinanet_obb_r50_fpn_1x_dota_le90-c0097bc4.pth')  # noqa: E501  # yapf: disable
