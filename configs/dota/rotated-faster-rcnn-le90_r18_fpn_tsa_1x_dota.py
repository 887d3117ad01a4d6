# The ResNet-18 student with DKD's training-status-aware (TSA) box loss on
# the RoI head (the why and how, and the coder's angle std: _base_/distill/
# tsa.py).
_base_ = [
    './rotated-faster-rcnn-le90_r18_fpn_1x_dota.py', '../_base_/distill/tsa.py'
]

model = dict(
    roi_head=dict(
        bbox_head=dict(
            reg_decoded_bbox=True,
            loss_bbox=dict(
                _base_.tsa_loss,
                base_loss=_base_.model.roi_head.bbox_head.loss_bbox,
                delta_stds=_base_.tsa_delta_xywhth_stds))))
