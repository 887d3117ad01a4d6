# DKD (GD + ISD + TSA) on DOTA v1.0: mmrotate's Oriented R-CNN (le90,
# ResNet-50, 1x; 75.69 mAP in its model zoo) teaches the ResNet-18 student.
# ISD's teacher instances come from the teacher's own predict path (oriented
# RPN proposals, then the RoI head).  The teacher is mmrotate's packaged
# config, unchanged; only its `model` is used (data, schedule and runtime are
# the student's).  Swap the student by overriding `model.student`.
_base_ = [
    './oriented-rcnn-le90_r18_fpn_tsa_1x_dota.py', '../_base_/distill/dkd.py'
]

# teacher_ckpt: the teacher's weights from mmrotate's model zoo (the `Weights`
# of oriented-rcnn-le90_r50_fpn_1x_dota in its metafile.yml), downloaded once
# into the torch hub cache; a local path works too.
model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='mmrotate::oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py',
    teacher_ckpt='https://download.openmmlab.com/mmrotate/v0.1.0/oriented_rcnn/oriented_rcnn_r50_fpn_1x_dota_le90/oriented_rcnn_r50_fpn_1x_dota_le90-6d2b2ce0.pth')  # noqa: E501  # yapf: disable
