# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# The FCOS head already hands decoded rotated boxes to its box loss; TSA
# wraps the family's box loss (GWD, or upstream's RotatedIoULoss with
# `cuda_box_loss = True` in the teacher config; see its note).
_base_ = ['./rotated-fcos_r18_fpn_synthetic.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss={{_base_.model.bbox_head.loss_bbox}})))
