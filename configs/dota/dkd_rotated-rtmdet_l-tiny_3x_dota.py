# DKD (GD + ISD + TSA) on DOTA v1.0: mmrotate's RTMDet-R l (3x; 78.85 mAP in
# its model zoo) teaches RTMDet-R tiny (75.60 mAP there, trained alone).
# Both are mmrotate's packaged configs: the teacher unchanged, only its
# `model` used; the student with upstream's recipe (data pipeline with
# random rotation and padding to 1024 px, 36 epochs of AdamW, EMA, batch 8
# on one GPU), read by dkd_mm's DOTA loader, its box loss wrapped in TSA.
# The necks (CSPNeXtPAFPN) have three levels (strides 8, 16, 32) and no
# `num_outs`; the distiller reads them from the built models, and 1x1
# adapters map the student's 96 channels to the teacher's 256.  Nothing is
# tuned: the project's DKD defaults, distillation warming up with the lr.
#
# Box loss: upstream's RotatedIoULoss needs CUDA (mmcv's
# `diff_iou_rotated`).  Without CUDA set `cuda_box_loss = False`: the
# student then uses GWD (mmrotate's GDLoss, loss_type='gwd', as
# configs/dota/rotated-fcos-le90_r18_fpn_1x_dota.py does) at upstream's
# weight, on the same decoded boxes, inside TSA.  The teacher never
# computes its loss, so it stays upstream's.
_base_ = [
    'mmrotate::rotated_rtmdet/rotated_rtmdet_tiny-3x-dota.py',
    '../_base_/distill/dkd_losses.py'
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

cuda_box_loss = True

# The teacher's weights from mmrotate's model zoo (the `Weights` of
# rotated_rtmdet_l-3x-dota in its metafile.yml), downloaded once into the
# torch hub cache; a local path works too.
teacher_ckpt = 'https://download.openmmlab.com/mmrotate/v1.0/rotated_rtmdet/rotated_rtmdet_l-3x-dota/rotated_rtmdet_l-3x-dota-23992372.pth'  # noqa: E501

box_loss = _base_.model.bbox_head.loss_bbox if cuda_box_loss else dict(
    type='mmrotate.GDLoss',  # Gaussian (GWD) box loss
    loss_type='gwd',
    loss_weight=_base_.model.bbox_head.loss_bbox.loss_weight)
model = dict(
    _delete_=True,
    type='dkd_mm.DKDDistiller',
    student=dict(
        _base_.model,
        bbox_head=dict(
            _base_.model.bbox_head,
            loss_bbox=dict(type='dkd_mm.TSALoss', base_loss=box_loss))),
    teacher='mmrotate::rotated_rtmdet/rotated_rtmdet_l-3x-dota.py',
    teacher_ckpt=teacher_ckpt,
    distill_losses=_base_.dkd_distill_losses)

# Upstream's data and pipelines, read by the loader that skips and reports
# bad labels and images (configs/_base_/datasets/dota_v1.py).
train_dataloader = dict(dataset=dict(type='dkd_mm.RobustDOTADataset'))
val_dataloader = dict(dataset=dict(type='dkd_mm.RobustDOTADataset'))
test_dataloader = dict(dataset=dict(type='dkd_mm.RobustDOTADataset'))

# Upstream's hooks (EMA of the student, as its model zoo numbers), and the
# teacher hook: distillation warms up over the 1000 learning-rate warm-up
# iterations.
custom_hooks = _base_.custom_hooks + [
    dict(type='dkd_mm.DKDTeacherHook', status_mode='iter', warmup_iters=1000)
]

auto_scale_lr = dict(enable=False, base_batch_size=8)
