# The ResNet-18 student with TSA around upstream's RotatedIoULoss (CUDA).
_base_ = ['./rotated-fcos_r18_fpn_tsa_synthetic.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            base_loss=dict(
                _delete_=True, type='mmrotate.RotatedIoULoss',
                loss_weight=1.0))))
