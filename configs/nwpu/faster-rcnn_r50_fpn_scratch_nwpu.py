# Teacher: mmdet's Faster R-CNN (ResNet-50 FPN) on NWPU VHR-10 (10
# classes, horizontal boxes), trained from scratch: mmdet's
# faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py (model, 1x schedule, runtime)
# with NWPU VHR-10's data in place of COCO's.
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../_base_/datasets/nwpu_vhr10.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    # From scratch: train every stage and let BN statistics move.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    roi_head=dict(bbox_head=dict(num_classes=10)),
    # Fewer test proposals (upstream: 1000): ISD runs this predict path for
    # teacher and student at every training step.
    test_cfg=dict(rpn=dict(max_per_img=300)))

train_dataloader = {{_base_.nwpu_train_dataloader}}
val_dataloader = {{_base_.nwpu_val_dataloader}}
test_dataloader = {{_base_.nwpu_test_dataloader}}
val_evaluator = {{_base_.nwpu_val_evaluator}}
test_evaluator = {{_base_.nwpu_test_evaluator}}
