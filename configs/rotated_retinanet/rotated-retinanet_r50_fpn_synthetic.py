# Teacher: mmrotate's rotated RetinaNet (le90, ResNet-50 FPN), trained from
# scratch on the embedded synthetic DOTA data.  Only what must change is
# changed: data, classes, schedule, no ImageNet init (no downloads here), and
# a neck/head of 128 channels with 2 stacked convs instead of 256 and 4: the
# data has 5 classes at 256 px, and the narrower head halves a CPU step.
_base_ = [
    'mmrotate::rotated_retinanet/rotated-retinanet-rbox-le90_r50_fpn_1x_dota.py',  # noqa: E501
    '../_base_/datasets/synthetic_dota.py',
    '../_base_/schedules/synthetic_iter.py',
]
custom_imports = dict(imports=['dkd_mm'], allow_failed_imports=False)

model = dict(
    # From scratch: train every stage and let BN statistics move.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(out_channels=128),
    # Anchors and assignment for thin and small objects.  With the upstream
    # anchors (32-512 px, ratios 0.5-2) and MaxIoUAssigner(0.5, 0.4), a 1:4-1:9
    # ship got 1.2 positive anchors (best IoU 0.26) and an 8-16 px small
    # vehicle a best IoU of 0.11, so no model of the benchmark learnt them.
    # Anchors from 16 px, ratios 1:4-4:1, one scale per level, thresholds
    # 0.4 / 0.3: ships get 1.5 positives (best IoU 0.35), small vehicles 1.7
    # (best IoU 0.41) (`python -m bench.assign_stats CONFIG`, 40 training
    # images).  Three scales per level (15 anchors a cell) gave ships 2.9
    # positives at the same best IoU but made a student step 1.9x slower on
    # CPU (rotated IoU of every anchor in the assigner).
    bbox_head=dict(
        num_classes=5,
        in_channels=128,
        feat_channels=128,
        stacked_convs=2,
        anchor_generator=dict(
            octave_base_scale=2,
            scales_per_octave=1,
            ratios=[0.25, 0.5, 1.0, 2.0, 4.0])),
    train_cfg=dict(assigner=dict(pos_iou_thr=0.4, neg_iou_thr=0.3)),
    # At most a few dozen objects per 256 px image: fewer raw detections keep
    # rotated NMS and the DOTA metric fast.
    test_cfg=dict(nms_pre=1000, max_per_img=200))

train_dataloader = {{_base_.synthetic_train_dataloader}}
val_dataloader = {{_base_.synthetic_val_dataloader}}
test_dataloader = {{_base_.synthetic_test_dataloader}}
val_evaluator = {{_base_.synthetic_val_evaluator}}
test_evaluator = val_evaluator

train_cfg = {{_base_.synthetic_train_cfg}}
param_scheduler = {{_base_.synthetic_param_scheduler}}
optim_wrapper = {{_base_.synthetic_optim_wrapper}}
default_hooks = {{_base_.synthetic_default_hooks}}
log_processor = {{_base_.synthetic_log_processor}}
