# The ResNet-18 student with DKD's training-status-aware (TSA) box loss on
# the RoI head.  TSA keeps the head's own loss (smooth L1 on the coder's
# deltas) and only re-weights the boxes: it reads the target boxes' sizes, so
# the head hands it decoded boxes (reg_decoded_bbox=True) and TSA takes the
# deltas of each predicted box relative to its target.  The coder
# (DeltaXYWHTHBBoxCoder) divides the angle delta by norm_factor * pi = 2 pi
# and then by its std 0.1, hence the last std 0.1 * 2 pi.  The RPN keeps its
# loss.
_base_ = ['./rotated-faster-rcnn-le90_r18_fpn_1x_dota.py']

model = dict(
    roi_head=dict(
        bbox_head=dict(
            reg_decoded_bbox=True,
            loss_bbox=dict(
                _delete_=True,
                type='dkd_mm.TSALoss',
                base_loss={{_base_.model.roi_head.bbox_head.loss_bbox}},
                delta_stds=(0.1, 0.1, 0.2, 0.2, 0.6283185307179586)))))
