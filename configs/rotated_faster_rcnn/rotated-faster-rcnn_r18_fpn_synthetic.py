# Student: the teacher's detector with a ResNet-18 backbone and a 64-channel
# neck, RPN and RoI head (_base_/models/synthetic_two_stage.py).
_base_ = ['./rotated-faster-rcnn_r50_fpn_synthetic.py']

model = _base_.synthetic_two_stage_student
