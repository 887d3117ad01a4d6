# The ResNet-18 student with DKD's training-status-aware (TSA) box loss on
# the RoI head (the why and how: _base_/distill/tsa.py).
_base_ = ['./faster-rcnn_r18_fpn_1x_nwpu.py', '../_base_/distill/tsa.py']

model = dict(
    roi_head=dict(
        bbox_head=dict(
            reg_decoded_bbox=True,
            loss_bbox=dict(
                _base_.tsa_loss,
                base_loss=_base_.model.roi_head.bbox_head.loss_bbox,
                delta_stds=_base_.model.roi_head.bbox_head.bbox_coder.
                target_stds))))
