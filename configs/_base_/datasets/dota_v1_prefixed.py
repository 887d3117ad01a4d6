# DOTA v1.0 split into 1024 px patches, the data of dota_v1.py under `dota_`
# names, so that it can sit beside an upstream mmrotate config in `_base_`
# (mmengine forbids duplicate keys among bases; mmrotate's configs bring their
# own `train_dataloader` etc. from its _base_/datasets/dota.py).  A config
# takes them as the synthetic and NWPU data bases are taken:
#
#   _base_ = ['mmrotate::<detector>/<config>_dota.py',
#             '../_base_/datasets/dota_v1_prefixed.py']
#   train_dataloader = {{_base_.dota_train_dataloader}}
#   val_dataloader = {{_base_.dota_val_dataloader}}
#   test_dataloader = {{_base_.dota_test_dataloader}}
#   val_evaluator = {{_base_.dota_val_evaluator}}
#   test_evaluator = {{_base_.dota_test_evaluator}}
#
# The loaders (./loaders.py) and evaluators carry `_delete_=True`, so they
# replace the upstream ones whole.  Not `test_dataloader = val_dataloader`
# there: mmengine then merges one dict object twice, its `_delete_` acts on
# the first merge only, and the test loader keeps upstream's keys (e.g.
# `img_shape`).
# DOTA v1.5: dota_v15_prefixed.py.  What the data is and how it is read:
# dota_v1.py, which gives these mmrotate's plain names.
_base_ = './loaders.py'

dota_dataset_type = 'dkd_mm.RobustDOTADataset'
dota_data_root = 'data/split_ss_dota/'
dota_backend_args = None

dota_train_pipeline = [
    dict(type='mmdet.LoadImageFromFile', backend_args=dota_backend_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(
        type='mmrotate.ConvertBoxType',
        box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    dict(
        type='mmdet.RandomFlip',
        prob=0.75,
        direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs')
]
dota_val_pipeline = [
    dict(type='mmdet.LoadImageFromFile', backend_args=dota_backend_args),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    # after Resize, so the boxes the metric sees stay in patch pixels
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(
        type='mmrotate.ConvertBoxType',
        box_type_mapping=dict(gt_bboxes='rbox')),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
dota_test_pipeline = [
    dict(type='mmdet.LoadImageFromFile', backend_args=dota_backend_args),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
dota_train_dataloader = dict(
    _base_.train_loader_defaults,
    batch_size=2,
    batch_sampler=None,
    dataset=dict(
        type=dota_dataset_type,
        data_root=dota_data_root,
        ann_file='trainval/annfiles/',
        data_prefix=dict(img_path='trainval/images/'),
        filter_cfg=dict(filter_empty_gt=True),
        on_bad_label='skip',
        pipeline=dota_train_pipeline))
dota_val_dataloader = dict(
    _base_.val_loader_defaults,
    batch_size=1,
    dataset=dict(
        type=dota_dataset_type,
        data_root=dota_data_root,
        ann_file='trainval/annfiles/',
        data_prefix=dict(img_path='trainval/images/'),
        test_mode=True,
        on_bad_label='skip',
        pipeline=dota_val_pipeline))
dota_test_dataloader = dict(dota_val_dataloader)  # its own object
dota_val_evaluator = dict(
    _delete_=True, type='mmrotate.DOTAMetric', metric='mAP')
dota_test_evaluator = dict(dota_val_evaluator)

# For the server: `test_dataloader = {{_base_.dota_submission_dataloader}}`
# and `test_evaluator = {{_base_.dota_submission_evaluator}}` in a child
# config.
dota_submission_dataloader = dict(
    dota_val_dataloader,  # the val loader's settings, on the test images
    dataset=dict(
        type=dota_dataset_type,
        data_root=dota_data_root,
        ann_file='',
        data_prefix=dict(img_path='test/images/'),
        test_mode=True,
        pipeline=dota_test_pipeline))
dota_submission_evaluator = dict(
    _delete_=True,
    type='mmrotate.DOTAMetric',
    format_only=True,
    merge_patches=True,
    outfile_prefix='./work_dirs/dota/Task1')
