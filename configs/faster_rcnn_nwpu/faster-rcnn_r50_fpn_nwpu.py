# Teacher: mmdet's Faster R-CNN (ResNet-50 FPN) on NWPU VHR-10 (10
# classes, horizontal boxes), trained from scratch.  mmdet's
# faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py is exactly its model base,
# COCO's data, the 1x schedule and the runtime: the same bases here, with
# NWPU VHR-10's data in place of COCO's.  (The upstream file itself cannot
# sit beside _base_/datasets/nwpu_vhr10.py, as both define
# `train_dataloader` & co. and mmengine forbids duplicate keys among bases.)
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    '../_base_/datasets/nwpu_vhr10.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    # From scratch: train every stage and let BN statistics move.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    roi_head=dict(bbox_head=dict(num_classes=10)),
    # Fewer test proposals (upstream: 1000): ISD runs this predict path for
    # teacher and student at every training step.
    test_cfg=dict(rpn=dict(max_per_img=300)))
