# Ablation: GD only (no ISD; the RoI head keeps its upstream smooth-L1 box
# loss).  docs/benchmarks.md's Oriented R-CNN diagnosis.
_base_ = ['./dkd_oriented-rcnn_r50-r18_synthetic.py']

model = dict(
    student=dict(
        roi_head=dict(
            bbox_head=dict(
                reg_decoded_bbox=False,
                loss_bbox=dict(
                    _delete_=True,
                    type='mmdet.SmoothL1Loss',
                    beta=1.0,
                    loss_weight=1.0)))),
    distill_losses=dict(
        _delete_=True,
        loss_global_distill=dict(type='DynamicGlobalDistillLoss')))
