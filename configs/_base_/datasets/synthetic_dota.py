# The embedded synthetic DOTA-format data (tools/data/make_synthetic_dota.py).
# Names carry a `synthetic_` prefix so that this file can sit beside an
# upstream mmrotate config in `_base_` (mmengine forbids duplicate keys among
# bases); a config takes them with `train_dataloader =
# {{_base_.synthetic_train_dataloader}}` etc.  The data tool writes train/,
# val/ and test/ below the root.
_base_ = './loaders.py'

synthetic_data_root = 'data/synthetic_dota/'
synthetic_metainfo = dict(
    classes=('plane', 'ship', 'storage-tank', 'small-vehicle',
             'large-vehicle'),
    palette=[(165, 42, 42), (255, 0, 255), (0, 51, 153), (138, 43, 226),
             (255, 128, 0)])
synthetic_img_size = 256

synthetic_train_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(256, 256), keep_ratio=True),
    dict(
        type='mmdet.RandomFlip',
        prob=0.75,
        direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs')
]
synthetic_val_pipeline = [
    dict(type='mmdet.LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(256, 256), keep_ratio=True),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
synthetic_train_dataloader = dict(
    _base_.train_loader_defaults,
    batch_size=4,
    batch_sampler=None,
    dataset=dict(
        type='dkd_mm.RobustDOTADataset',
        metainfo=synthetic_metainfo,
        data_root=synthetic_data_root,
        ann_file='train/annfiles/',
        data_prefix=dict(img_path='train/images/'),
        img_shape=(256, 256),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=synthetic_train_pipeline))
synthetic_val_dataloader = dict(
    _base_.val_loader_defaults,
    batch_size=4,
    dataset=dict(
        type='dkd_mm.RobustDOTADataset',
        metainfo=synthetic_metainfo,
        data_root=synthetic_data_root,
        ann_file='val/annfiles/',
        data_prefix=dict(img_path='val/images/'),
        img_shape=(256, 256),
        test_mode=True,
        pipeline=synthetic_val_pipeline))
# The held-out subset (`tools/test.py`): settings are tuned on val, so a
# number reported there would be flattered by that choice.
synthetic_test_dataloader = dict(
    synthetic_val_dataloader,
    dataset=dict(
        synthetic_val_dataloader['dataset'],
        ann_file='test/annfiles/',
        data_prefix=dict(img_path='test/images/')))
synthetic_val_evaluator = dict(type='DOTAMetric', metric='mAP')
