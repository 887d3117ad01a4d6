# What the two-stage synthetic teachers (Oriented R-CNN, rotated Faster
# R-CNN; le90, ResNet-50 FPN) change in their upstream detector, and what
# their ResNet-18 students change in the teacher.  Teacher: trained from
# scratch (every stage trains, BN statistics move), a 128-channel neck, RPN
# and RoI head (5 classes at 256 px), and test-time proposal counts sized
# for a CPU (ISD runs this predict path for teacher and student at every
# training step).  Student: ResNet-18 with a 64-channel neck, RPN and RoI
# head (the distiller's 1x1 adapters map 64 to 128).
synthetic_two_stage_teacher = dict(
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(out_channels=128),
    rpn_head=dict(in_channels=128, feat_channels=128),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(num_classes=5, in_channels=128)),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=300), rcnn=dict(max_per_img=200)))
synthetic_two_stage_student = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64)))
