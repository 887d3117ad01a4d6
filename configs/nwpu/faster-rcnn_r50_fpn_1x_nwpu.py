# Teacher: mmdet's Faster R-CNN (ResNet-50 FPN from torchvision's ImageNet
# weights, 1x schedule, SGD lr 0.02) as mmdet ships it for COCO, on NWPU
# VHR-10; changed: 10 classes, and NWPU VHR-10's data and VOC mAP in place
# of COCO's.  No NWPU VHR-10 model zoo exists, so train it once; its last
# checkpoint is the DKD config's `teacher_ckpt`:
#   python tools/train.py configs/nwpu/faster-rcnn_r50_fpn_1x_nwpu.py
# lr 0.02 is mmdet's for 16 images a step (8 GPUs x 2 images,
# `auto_scale_lr.base_batch_size=16`); on G GPUs x 2 images add
# `--auto-scale-lr` to scale it linearly (lr x 2G / 16).
_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    '../_base_/datasets/nwpu_vhr10.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(roi_head=dict(bbox_head=dict(num_classes=10)))

train_dataloader = {{_base_.nwpu_train_dataloader}}
val_dataloader = {{_base_.nwpu_val_dataloader}}
test_dataloader = {{_base_.nwpu_test_dataloader}}
val_evaluator = {{_base_.nwpu_val_evaluator}}
test_evaluator = {{_base_.nwpu_test_evaluator}}
