# DOTA v1.5 (16 classes: v1.0 and container-crane) split into 1024 px
# patches (data/split_ss_dota1_5/{trainval,test}/{images,annfiles}): the
# DOTA v1.0 data config with dkd_mm's RobustDOTAv15Dataset, as mmrotate's
# _base_/datasets/dotav15.py is its dota.py with DOTAv15Dataset.
_base_ = './dota_v1.py'

dataset_type = 'dkd_mm.RobustDOTAv15Dataset'
data_root = 'data/split_ss_dota1_5/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
submission_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
submission_evaluator = dict(outfile_prefix='./work_dirs/dotav15/Task1')
