# DKD (GD + ISD + TSA) on DOTA v1.0: mmrotate's rotated Faster R-CNN (le90,
# ResNet-50, 1x; 73.40 mAP in its model zoo) teaches the ResNet-18 student.
# ISD's teacher instances come from the teacher's own predict path (RPN
# proposals, then the RoI head).  The teacher is mmrotate's packaged config,
# unchanged; only its `model` is used (data, schedule and runtime are the
# student's).  Swap the student by overriding `model.student`.
_base_ = [
    './rotated-faster-rcnn-le90_r18_fpn_tsa_1x_dota.py',
    '../_base_/distill/dkd.py'
]

# teacher_ckpt: the teacher's weights from mmrotate's model zoo (the `Weights`
# of rotated-faster-rcnn-le90_r50_fpn_1x_dota in its metafile.yml), downloaded
# once into the torch hub cache; a local path works too.
model = dict(
    _base_.dkd_model,
    student=_base_.model,
    teacher='mmrotate::rotated_faster_rcnn/rotated-faster-rcnn-le90_r50_fpn_1x_dota.py',  # noqa: E501
    teacher_ckpt='https://download.openmmlab.com/mmrotate/v0.1.0/rotated_faster_rcnn/rotated_faster_rcnn_r50_fpn_1x_dota_le90/rotated_faster_rcnn_r50_fpn_1x_dota_le90-0393aa5c.pth')  # noqa: E501  # yapf: disable
