# DOTA v1.5 (16 classes) under `dota_` names, to sit beside an upstream
# mmrotate config in `_base_`: dota_v1_prefixed.py with dkd_mm's
# RobustDOTAv15Dataset and data/split_ss_dota1_5/, as dota_v15.py is
# dota_v1.py with them.  Swap it for dota_v1_prefixed.py in a config's
# `_base_` and set `num_classes=16` in its heads.
_base_ = './dota_v1_prefixed.py'

dota_dataset_type = 'dkd_mm.RobustDOTAv15Dataset'
dota_data_root = 'data/split_ss_dota1_5/'
dota_train_dataloader = dict(
    dataset=dict(type=dota_dataset_type, data_root=dota_data_root))
dota_val_dataloader = dict(
    dataset=dict(type=dota_dataset_type, data_root=dota_data_root))
dota_test_dataloader = dict(
    dataset=dict(type=dota_dataset_type, data_root=dota_data_root))
dota_submission_dataloader = dict(
    dataset=dict(type=dota_dataset_type, data_root=dota_data_root))
dota_submission_evaluator = dict(outfile_prefix='./work_dirs/dotav15/Task1')
