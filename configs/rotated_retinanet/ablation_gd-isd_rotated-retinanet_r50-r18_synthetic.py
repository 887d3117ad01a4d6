# Ablation: GD + ISD (the student keeps its upstream L1 box loss, no TSA).
_base_ = ['./dkd_rotated-retinanet_r50-r18_synthetic.py']

model = dict(
    student=dict(
        bbox_head=dict(
            reg_decoded_bbox=False,
            loss_bbox=dict(
                _delete_=True, type='mmdet.L1Loss', loss_weight=1.0))))
