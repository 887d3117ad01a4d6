# DKD's training-status-aware (TSA) box loss, which a student config wraps
# around its head's box loss.  TSA keeps the head's own loss (`base_loss`:
# L1 or smooth L1 on the coder's deltas, IoU or GWD on decoded boxes) and
# only re-weights the boxes.  It reads the target boxes' sizes, so a head
# that regresses the coder's deltas hands it decoded boxes
# (`reg_decoded_bbox=True`) and TSA takes the deltas of each predicted box
# relative to its target (`delta_stds`: the coder's `target_stds`); a head
# that already decodes its boxes (FCOS, RTMDet) needs neither.  A two-stage
# detector's RPN keeps its loss.  `tsa_loss` carries `_delete_` (the head's
# loss is replaced whole) and the `dkd_mm.` prefix: dicts taken from an
# `mmrotate::` base are built in mmrotate's scope.
#
#   _base_ = ['./<student>.py', '../_base_/distill/tsa.py']
#   model = dict(
#       bbox_head=dict(
#           reg_decoded_bbox=True,
#           loss_bbox=dict(
#               _base_.tsa_loss,
#               base_loss=_base_.model.bbox_head.loss_bbox,
#               delta_stds=_base_.model.bbox_head.bbox_coder.target_stds)))
tsa_loss = dict(_delete_=True, type='dkd_mm.TSALoss')
# mmrotate's DeltaXYWHTHBBoxCoder (rotated Faster R-CNN's RoI head) divides
# the angle delta by norm_factor * pi = 2 pi and then by its std 0.1, hence
# the last std 0.1 * 2 pi.
tsa_delta_xywhth_stds = (0.1, 0.1, 0.2, 0.2, 0.6283185307179586)
