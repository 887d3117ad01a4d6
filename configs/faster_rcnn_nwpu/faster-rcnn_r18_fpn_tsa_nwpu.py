# The ResNet-18 student with DKD's training-status-aware (TSA) box loss on
# the RoI head: decoded boxes and GIoU as mmdet's
# faster-rcnn_r50_fpn_giou_1x_coco.py (weight 10).  The RPN keeps its loss.
_base_ = ['./faster-rcnn_r18_fpn_nwpu.py']

model = dict(
    roi_head=dict(
        bbox_head=dict(
            reg_decoded_bbox=True,
            loss_bbox=dict(
                _delete_=True,
                type='dkd_mm.TSALoss',
                base_loss=dict(type='mmdet.GIoULoss', loss_weight=10.0)))))
