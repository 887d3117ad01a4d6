# The ResNet-18 student with DKD's training-status-aware (TSA) box loss
# (_base_/distill/tsa.py) around the FCOS head's loss on decoded rotated
# boxes: upstream's RotatedIoULoss, or GWD with `cuda_box_loss = False` in
# the student config (see its note).
_base_ = ['./rotated-fcos-le90_r18_fpn_1x_dota.py', '../_base_/distill/tsa.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _base_.tsa_loss, base_loss=_base_.model.bbox_head.loss_bbox)))
