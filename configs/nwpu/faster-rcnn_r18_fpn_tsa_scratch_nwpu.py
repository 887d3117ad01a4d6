# The ResNet-18 student with DKD's training-status-aware (TSA) box loss on
# the RoI head.  TSA keeps the head's own loss (L1 on the coder's deltas) and
# only re-weights the boxes: it reads the target boxes' sizes, so the head
# hands it decoded boxes (reg_decoded_bbox=True) and TSA takes the deltas of
# each predicted box relative to its target.  The RPN keeps its loss.
_base_ = ['./faster-rcnn_r18_fpn_scratch_nwpu.py']

model = dict(
    roi_head=dict(
        bbox_head=dict(
            reg_decoded_bbox=True,
            loss_bbox=dict(
                _delete_=True,
                type='dkd_mm.TSALoss',
                base_loss={{_base_.model.roi_head.bbox_head.loss_bbox}},
                delta_stds={{
                    _base_.model.roi_head.bbox_head.bbox_coder.target_stds
                }}))))  # noqa: E501
