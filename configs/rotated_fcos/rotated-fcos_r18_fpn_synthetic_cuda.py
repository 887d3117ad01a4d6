# The ResNet-18 rotated FCOS student with upstream's RotatedIoULoss (CUDA).
_base_ = ['./rotated-fcos_r18_fpn_synthetic.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(_delete_=True, type='RotatedIoULoss', loss_weight=1.0)))
