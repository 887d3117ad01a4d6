# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# TSA needs decoded boxes (reg_decoded_bbox=True); GIoU inside, with the
# weight of mmdet's GIoU configs of anchor-based single-stage heads (ATSS).
_base_ = ['./retinanet_r18_fpn_nwpu.py']

model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss=dict(type='mmdet.GIoULoss', loss_weight=2.0))))
