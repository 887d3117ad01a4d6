# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# The FCOS head already hands decoded boxes to its box loss; GIoU inside,
# as mmdet's FCOS GIoU configs (weight 1).
_base_ = ['./fcos_r18_fpn_nwpu.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss=dict(type='mmdet.GIoULoss', loss_weight=1.0))))
