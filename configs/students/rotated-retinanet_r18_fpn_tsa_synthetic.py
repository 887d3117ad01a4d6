# The ResNet-18 student with DKD's training-status-aware (TSA) box loss.
# TSA needs decoded boxes, as mmrotate's own GWD configs do
# (reg_decoded_bbox=True, GDLoss(gwd), loss_weight 5.0).  dkd_mm components
# inside an upstream detector's dict carry the `dkd_mm.` prefix: dicts taken
# from an `mmrotate::` base are built in mmrotate's scope.
_base_ = ['./rotated-retinanet_r18_fpn_synthetic.py']

model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _delete_=True,
            type='dkd_mm.TSALoss',
            base_loss=dict(
                type='mmrotate.GDLoss', loss_type='gwd', loss_weight=5.0))))
