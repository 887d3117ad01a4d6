# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# The FCOS head already hands decoded boxes to its box loss: TSA wraps the
# head's own loss (mmdet FCOS's IoU loss) and only re-weights the boxes.
_base_ = ['./fcos_r18_fpn_scratch_nwpu.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss={{_base_.model.bbox_head.loss_bbox}})))
