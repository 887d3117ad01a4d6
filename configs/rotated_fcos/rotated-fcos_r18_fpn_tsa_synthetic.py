# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# The FCOS head already hands decoded rotated boxes to its box loss; TSA
# wraps the CPU-capable GWD of the plain configs (see the teacher's note;
# rotated-fcos_r18_fpn_tsa_synthetic_cuda.py wraps upstream's IoU loss).
_base_ = ['./rotated-fcos_r18_fpn_synthetic.py']

model = dict(
    bbox_head=dict(
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss=dict(
                type='mmrotate.GDLoss', loss_type='gwd', loss_weight=1.0))))
