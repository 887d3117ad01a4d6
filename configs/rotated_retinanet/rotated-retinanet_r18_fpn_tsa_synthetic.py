# The ResNet-18 student with DKD's training-status-aware (TSA) box loss
# (the why and how: _base_/distill/tsa.py).
_base_ = [
    './rotated-retinanet_r18_fpn_synthetic.py', '../_base_/distill/tsa.py'
]

model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _base_.tsa_loss,
            base_loss=_base_.model.bbox_head.loss_bbox,
            delta_stds=_base_.model.bbox_head.bbox_coder.target_stds)))
