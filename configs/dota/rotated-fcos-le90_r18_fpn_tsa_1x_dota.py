# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# The FCOS head already hands decoded rotated boxes to its box loss; TSA
# wraps it (upstream's RotatedIoULoss, or GWD with `cuda_box_loss = False`
# in the student config; see its note).
_base_ = ['./rotated-fcos-le90_r18_fpn_1x_dota.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss={{_base_.model.bbox_head.loss_bbox}})))
