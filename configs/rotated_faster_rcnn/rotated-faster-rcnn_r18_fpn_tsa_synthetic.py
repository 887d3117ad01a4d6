# The ResNet-18 student with DKD's training-status-aware (TSA) box loss on
# the RoI head.  TSA needs decoded boxes (reg_decoded_bbox=True); GWD inside,
# with the weight of mmrotate's GWD configs.  The RPN keeps its loss.
_base_ = ['./rotated-faster-rcnn_r18_fpn_synthetic.py']

model = dict(
    roi_head=dict(
        bbox_head=dict(
            reg_decoded_bbox=True,
            loss_bbox=dict(
                _delete_=True,
                type='dkd_mm.TSALoss',
                base_loss=dict(
                    type='mmrotate.GDLoss', loss_type='gwd',
                    loss_weight=5.0)))))
