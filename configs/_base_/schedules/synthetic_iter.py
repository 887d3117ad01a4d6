# A short iteration-based schedule for training from scratch on the
# synthetic data (no pretrained weights can be downloaded here): AdamW at
# lr 1e-3, weight decay 0.05, for batch 4, linear warm-up over 50 iterations,
# steps at 75% and 90%.  mmrotate's SGD (lr 0.0025 for batch 2, here 0.005)
# left rotated RetinaNet trained from scratch on the focal-loss plateau
# (loss_cls 0.94-0.99) for its first ~150 iterations, and whether a run had
# left it when the learning rate dropped decided its mAP: two seeds of one
# student gave 0.151 and 0.001.  With AdamW loss_cls is below 0.8 by
# iteration 30 (docs/benchmarks.md).  Prefixed names, for the same reason
# as in _base_/datasets/synthetic_dota.py.
synthetic_max_iters = 600
synthetic_train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=synthetic_max_iters,
    val_interval=synthetic_max_iters)
synthetic_param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=synthetic_max_iters,
        milestones=[
            int(synthetic_max_iters * 0.75),
            int(synthetic_max_iters * 0.9)
        ],
        gamma=0.1)
]
synthetic_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.05),
    clip_grad=dict(max_norm=35, norm_type=2))
synthetic_default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(
        type='CheckpointHook',
        interval=synthetic_max_iters,
        by_epoch=False,
        max_keep_ckpts=2),
    visualization=dict(type='mmdet.DetVisualizationHook'))
synthetic_log_processor = dict(
    type='LogProcessor', window_size=20, by_epoch=False)
