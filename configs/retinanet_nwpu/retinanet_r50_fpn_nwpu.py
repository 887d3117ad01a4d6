# Teacher: mmdet's RetinaNet (ResNet-50 FPN) on NWPU VHR-10 (10 classes,
# horizontal boxes), trained from scratch.  mmdet's
# retinanet/retinanet_r50_fpn_1x_coco.py is its model base, COCO's data, the
# 1x schedule and the runtime (plus SGD at lr 0.01): the same bases here,
# with NWPU VHR-10's data in place of COCO's.  (The upstream file itself
# cannot sit beside _base_/datasets/nwpu_vhr10.py, as both define
# `train_dataloader` & co. and mmengine forbids duplicate keys among bases.)
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/nwpu_vhr10.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    # From scratch: train every stage and let BN statistics move.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    bbox_head=dict(num_classes=10))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
