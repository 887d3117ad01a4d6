# The rotated FCOS teacher with upstream's box loss, RotatedIoULoss, which
# needs CUDA (mmcv's `diff_iou_rotated`).  Same architecture: its weights
# are interchangeable with those of rotated-fcos_r50_fpn_synthetic.py.
_base_ = ['./rotated-fcos_r50_fpn_synthetic.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(_delete_=True, type='RotatedIoULoss', loss_weight=1.0)))
