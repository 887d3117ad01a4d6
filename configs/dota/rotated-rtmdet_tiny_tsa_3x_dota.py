# Student: mmrotate's RTMDet-R tiny (3x; 75.60 mAP in its model zoo) with
# upstream's recipe (data pipeline with random rotation and padding to
# 1024 px, 36 epochs of AdamW, EMA, batch 8 on one GPU), read by dkd_mm's
# DOTA loader, its box loss wrapped in DKD's training-status-aware (TSA)
# loss (_base_/distill/tsa.py).  The student of
# dkd_rotated-rtmdet_l-tiny_3x_dota.py.
#
# Box loss: upstream's RotatedIoULoss needs CUDA (mmcv's
# `diff_iou_rotated`).  Without CUDA set `cuda_box_loss = False`: the
# student then uses GWD (mmrotate's GDLoss, loss_type='gwd', as
# configs/dota/rotated-fcos-le90_r18_fpn_1x_dota.py does) at upstream's
# weight, on the same decoded boxes, inside TSA.
_base_ = [
    'mmrotate::rotated_rtmdet/rotated_rtmdet_tiny-3x-dota.py',
    '../_base_/distill/tsa.py'
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

cuda_box_loss = True

box_loss = _base_.model.bbox_head.loss_bbox if cuda_box_loss else dict(
    type='mmrotate.GDLoss',  # Gaussian (GWD) box loss
    loss_type='gwd',
    loss_weight=_base_.model.bbox_head.loss_bbox.loss_weight)
model = dict(
    bbox_head=dict(loss_bbox=dict(_base_.tsa_loss, base_loss=box_loss)))

# Upstream's data and pipelines, read by the loader that skips and reports
# bad labels and images (configs/_base_/datasets/dota_v1.py).
train_dataloader = dict(dataset=dict(type='dkd_mm.RobustDOTADataset'))
val_dataloader = dict(dataset=dict(type='dkd_mm.RobustDOTADataset'))
test_dataloader = dict(dataset=dict(type='dkd_mm.RobustDOTADataset'))

auto_scale_lr = dict(enable=False, base_batch_size=8)
