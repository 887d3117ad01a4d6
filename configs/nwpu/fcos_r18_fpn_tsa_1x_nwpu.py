# The ResNet-18 student with DKD's training-status-aware (TSA) box loss
# (_base_/distill/tsa.py) around the FCOS head's loss on decoded boxes
# (mmdet FCOS's IoU loss).
_base_ = ['./fcos_r18_fpn_1x_nwpu.py', '../_base_/distill/tsa.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _base_.tsa_loss, base_loss=_base_.model.bbox_head.loss_bbox)))
