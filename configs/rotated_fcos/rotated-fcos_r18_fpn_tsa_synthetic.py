# The ResNet-18 student with DKD's training-status-aware (TSA) box loss
# (_base_/distill/tsa.py) around the family's loss on decoded rotated boxes:
# GWD, or upstream's RotatedIoULoss with `cuda_box_loss = True` in the
# teacher config (see its note).
_base_ = ['./rotated-fcos_r18_fpn_synthetic.py', '../_base_/distill/tsa.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _base_.tsa_loss, base_loss=_base_.model.bbox_head.loss_bbox)))
