# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# TSA keeps the head's own loss (L1 on the coder's deltas) and only re-weights
# the boxes.  It reads the target boxes' sizes, so the head hands it decoded
# boxes (reg_decoded_bbox=True) and TSA takes the deltas of each predicted box
# relative to its target (`delta_stds`: the coder's target_stds).  dkd_mm
# components inside an upstream detector's dict carry the `dkd_mm.` prefix:
# dicts taken from an `mmrotate::` base are built in mmrotate's scope.
_base_ = ['./rotated-retinanet_r18_fpn_synthetic.py']

model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss={{_base_.model.bbox_head.loss_bbox}},
            delta_stds={{_base_.model.bbox_head.bbox_coder.target_stds}})))
